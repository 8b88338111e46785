<?php
// Shared page frame for the sample blog.
function page(string $title, string $body): void {
    $t = htmlspecialchars($title);
    echo "<!doctype html><html><head><title>$t · Blog</title></head><body><h1>$t</h1>$body</body></html>\n";
}
