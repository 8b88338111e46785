<?php require_once __DIR__ . '/layout.php'; page('Blog', '<p>Welcome to the devsys sample blog.</p>');
