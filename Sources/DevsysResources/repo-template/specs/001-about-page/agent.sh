#!/bin/sh
# The `script` coding agent for this task: devsys runs it with `sh` in a fresh checkout of
# task/001-about-page. A real team points agents.coding at opencode or aider instead.
set -eu
cat > app/about.php <<'PHP'
<?php require_once __DIR__ . '/layout.php'; page('About', '<p>About this blog: written by the devsys demo team.</p>');
PHP
