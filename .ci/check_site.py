"""Renders pages of the built site in headless Chromium and checks what a reader sees.

    python .ci/check_site.py [--site site] [--chromium /usr/bin/chromium]

The site is served from its folder on localhost. For each page checked, the
page's title must be the expected one and its text must hold the expected
strings; on `tfpvae.VAE`'s page, one of the rendered signatures must be
`VAE(...)` with the arguments and defaults of `VAE.__init__` in
tfpvae/model.py.
A screenshot of each page is kept in SITE/_checks/. Exits 1, naming what is
missing, when a check fails.
"""

import argparse
import ast
import functools
import html
import http.server
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_S = 120


def vae_signature():
    """`VAE(...)` as `VAE.__init__` declares it, from the source (no TensorFlow import)."""
    tree = ast.parse((ROOT / "tfpvae" / "model.py").read_text())
    (vae,) = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "VAE"]
    (init,) = [node for node in vae.body if isinstance(node, ast.FunctionDef) and node.name == "__init__"]
    init.args.args.pop(0)  # self
    return f"VAE({ast.unparse(init.args)})"


def comparable(code):
    """Code with its layout and quoting left out: no whitespace, double quotes, no trailing comma."""
    return re.sub(r"\s+", "", code).replace("'", '"').replace(",)", ")")


def pages():
    """Each page to check: its name, path on the server, title, the strings its text must hold, and
    the signature it must render (or None)."""
    return [
        ("home", "/", "tfpvae", ["Getting started", "Concepts", "Guides"], None),
        ("vae", "/reference/vae/", "tfpvae.VAE - tfpvae", ["Parameters"], vae_signature()),
    ]


def serve(folder):
    """An HTTP server of `folder` on a free localhost port, answering in a background thread."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    """A browser that closes a connection before a file is sent (it had what it needed) is no error."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def chromium(binary, *arguments):
    """Chromium's stdout for one headless run, with a profile of its own."""
    with tempfile.TemporaryDirectory(prefix="check-site-") as profile:
        command = [binary, *FLAGS, f"--user-data-dir={profile}", *arguments]
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    if result.returncode:
        raise RuntimeError(f"{binary} exited with status {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


def text_of(dom):
    """The page's title and its visible text, whitespace collapsed."""
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
    body = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", body)))
    return html.unescape(title.group(1)).strip() if title else None, body


def signatures(dom):
    """The text of each signature block mkdocstrings rendered."""
    blocks = re.findall(r'<div class="doc-signature[^"]*">(.*?)</pre>', dom, re.S)
    return [text_of(block)[1] for block in blocks]


def check(binary, url, title, strings, signature, screenshot):
    """What is wrong with the page at `url`, as a list of lines; its screenshot is written."""
    dom = chromium(binary, "--dump-dom", url)
    found_title, body = text_of(dom)
    chromium(binary, f"--screenshot={screenshot}", "--window-size=1280,1400", "--hide-scrollbars", url)
    problems = [] if found_title == title else [f"{url}: title {found_title!r}, expected {title!r}"]
    problems += [f"{url}: {string!r} is not on the page" for string in strings if string not in body]
    rendered = [comparable(text) for text in signatures(dom)]
    if signature and comparable(signature) not in rendered:
        problems.append(f"{url}: the signature {signature} is not on the page; its signatures: {rendered}")
    if not screenshot.is_file() or screenshot.stat().st_size == 0:
        problems.append(f"{url}: no screenshot was written to {screenshot}")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="the built site (default: site)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium binary")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        parser.error(f"{args.site} holds no built site (no index.html): run mkdocs build first")
    screenshots = args.site / "_checks"
    screenshots.mkdir(exist_ok=True)
    server = serve(args.site)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        problems = []
        for name, path, title, strings, signature in pages():
            problems += check(args.chromium, base + path, title, strings, signature, screenshots / f"{name}.png")
    finally:
        server.shutdown()
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"checked {len(pages())} pages of {args.site}: {'FAILED' if problems else 'ok'}; "
          f"screenshots in {screenshots}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
