"""The benchmark's baseline: a bare WSGI "hello world" (no Flask), served under the same waitress settings.

bench/run.py's hello_command starts it: `python -m bench.hello --listen HOST:PORT --threads N [--processes P]`,
with the interpreter settings `kiosk serve` uses (serving.shorten_switch_interval) and, with P > 1, as many
processes on one socket, forked as `kiosk serve --processes P` forks.
"""
import argparse

BODY = b"hello world"
HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    """Answer every request with 200 "hello world"."""
    start_response("200 OK", HEADERS)
    return [BODY]


def main():
    """Serve `app` under waitress as `kiosk serve` serves (threads, processes, switch interval)."""
    from waitress.server import create_server

    from kiosk import serving

    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    serving.shorten_switch_interval()
    sock = serving.bind(host, int(port))

    def serve():
        create_server(app, sockets=[sock], threads=args.threads, ident="kiosk").run()

    if args.processes > 1:
        serving.run_processes(args.processes, serve)
    else:
        serve()


if __name__ == "__main__":
    main()
