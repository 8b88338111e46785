<?php
// The blog's tests: every page in app/ renders (in a PHP process of its own) and names itself.
// Exit status 0 when all pass; one line per page.
$failed = 0;
foreach (glob(__DIR__ . '/../app/*.php') as $file) {
    if (basename($file) === 'layout.php') continue;
    $html = shell_exec(escapeshellarg(PHP_BINARY) . ' ' . escapeshellarg($file) . ' 2>&1') ?? '';
    $ok = str_contains($html, '<h1>');
    echo ($ok ? 'ok   ' : 'FAIL ') . basename($file) . ($ok ? '' : ': ' . trim($html)) . "\n";
    if (!$ok) $failed++;
}
exit($failed ? 1 : 0);
