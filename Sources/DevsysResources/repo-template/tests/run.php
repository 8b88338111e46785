<?php
// The blog's tests: every page in app/ renders without error and names itself.
// Exit status 0 when all pass; one line per page.
$failed = 0;
foreach (glob(__DIR__ . '/../app/*.php') as $file) {
    if (basename($file) === 'layout.php') continue;
    ob_start();
    try { include $file; $html = ob_get_clean(); } catch (Throwable $e) { ob_end_clean(); $html = ''; echo "error in $file: {$e->getMessage()}\n"; }
    $ok = str_contains($html, '<h1>');
    echo ($ok ? 'ok   ' : 'FAIL ') . basename($file) . "\n";
    if (!$ok) $failed++;
}
exit($failed ? 1 : 0);
