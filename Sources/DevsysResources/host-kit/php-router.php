<?php
// devsys router for PHP's built-in server:
//
//   DEVSYS_APP_ROOT=/srv/devsys/blog php -S 127.0.0.1:8080 deploy/php-router.php
//
// `php -S` resolves its document root once, at start; serving `<app>/current` that way keeps
// the old revision after a switch. This router resolves `current` again on every request (with
// the stat and realpath caches cleared), so the request after a switch is served from the new
// revision, and one request never mixes two revisions: everything it reads comes from the one
// folder resolved at its start. Files of `shared` paths (linked into each revision from
// <app>/shared/) are served too.

$appRoot = getenv('DEVSYS_APP_ROOT');
if ($appRoot === false || $appRoot === '') {
    http_response_code(500);
    header('Content-Type: text/plain');
    echo "devsys router: set DEVSYS_APP_ROOT to <root>/<app>\n";
    return true;
}

clearstatcache(true);
$revision = realpath($appRoot . '/current');
if ($revision === false || !is_dir($revision)) {
    http_response_code(503);
    header('Content-Type: text/plain');
    echo "no revision deployed yet\n";
    return true;
}

function devsys_not_found(): bool
{
    http_response_code(404);
    header('Content-Type: text/plain');
    echo "not found\n";
    return true;
}

$path = rawurldecode(parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) ?? '/');
// No NUL, no hidden files or folders (.git, .env, .htaccess), no way out of the revision.
if (strpos($path, "\0") !== false || preg_match('#(^|/)\.#', $path)) {
    return devsys_not_found();
}
$file = realpath($revision . '/' . ltrim($path, '/'));
// Inside the revision, or inside <app>/shared/ through a link the deploy made for a `shared`
// path (uploads in storage/); nothing else on the host.
$shared = realpath($appRoot . '/shared');
$inRevision = $file !== false && ($file === $revision || strpos($file, $revision . '/') === 0);
$inShared = $file !== false && $shared !== false && strpos($file, $shared . '/') === 0;
if (!$inRevision && !$inShared) {
    return devsys_not_found();
}
if (is_dir($file)) {
    $index = null;
    foreach (['index.php', 'index.html'] as $candidate) {
        if (is_file($file . '/' . $candidate)) {
            $index = $file . '/' . $candidate;
            break;
        }
    }
    if ($index === null) {
        return devsys_not_found();
    }
    $file = $index;
}
if (!is_file($file)) {
    return devsys_not_found();
}

if (substr($file, -4) === '.php') {
    $script = substr($file, strlen($revision));
    $_SERVER['DOCUMENT_ROOT'] = $revision;
    $_SERVER['SCRIPT_FILENAME'] = $file;
    $_SERVER['SCRIPT_NAME'] = $script;
    $_SERVER['PHP_SELF'] = $script;
    chdir(dirname($file));
    include $file;
    return true;
}

$types = [
    'html' => 'text/html; charset=utf-8', 'htm' => 'text/html; charset=utf-8', 'css' => 'text/css',
    'js' => 'text/javascript', 'json' => 'application/json', 'txt' => 'text/plain; charset=utf-8',
    'svg' => 'image/svg+xml', 'png' => 'image/png', 'jpg' => 'image/jpeg', 'jpeg' => 'image/jpeg',
    'gif' => 'image/gif', 'webp' => 'image/webp', 'ico' => 'image/x-icon', 'woff2' => 'font/woff2',
    'xml' => 'application/xml', 'pdf' => 'application/pdf',
];
$extension = strtolower(pathinfo($file, PATHINFO_EXTENSION));
header('Content-Type: ' . ($types[$extension] ?? ($extension === '' ? 'text/plain; charset=utf-8' : 'application/octet-stream')));
header('Content-Length: ' . filesize($file));
// A switch changes what a URL returns: no caching of revision files by clients.
header('Cache-Control: no-cache');
readfile($file);
return true;
