"""A WebSub subscriber we did not write (Flask-WebSub 0.4.1) against feedd's hub.

Usage: flask_websub_subscriber.py FEED_URL CALLBACK_PORT POST_FILE NEW_TITLE OUT_FILE

Discovers the hub and topic from FEED_URL's Link header, subscribes with a secret,
waits for the verification to succeed, changes POST_FILE's title to NEW_TITLE, waits for
the notification (Flask-WebSub checks its X-Hub-Signature) and writes its body to
OUT_FILE. Exits 0 on success, 1 with a message otherwise (20 s bound).
"""
import os
import sys
import tempfile
import threading

import flask
import flask_websub.subscriber as websub
from werkzeug.serving import make_server

feed_url, port, post_file, new_title, out_file = sys.argv[1:6]
port = int(port)

# Flask-WebSub sends a secret only to https hubs (a policy, not part of the protocol);
# here everything is on 127.0.0.1, so let it sign over http to exercise the signature.
websub.is_secure = lambda url: True

app = flask.Flask(__name__)
app.config["SERVER_NAME"] = f"127.0.0.1:{port}"
tmp = tempfile.mkdtemp()
subscriber = websub.Subscriber(
    websub.SQLite3SubscriberStorage(os.path.join(tmp, "subs.sqlite")),
    websub.SQLite3TempSubscriberStorage(os.path.join(tmp, "temp.sqlite")),
)
app.register_blueprint(subscriber.build_blueprint(url_prefix="/callbacks"))

verified = threading.Event()
notified = threading.Event()
failures = []
bodies = []


@subscriber.add_success_handler
def on_success(topic_url, callback_id, mode):
    verified.set()


@subscriber.add_error_handler
def on_error(topic_url, callback_id, reason):
    failures.append(reason)
    verified.set()


@subscriber.add_listener
def on_notification(topic_url, callback_id, body):
    bodies.append(body)
    if new_title.encode() in body:
        notified.set()


server = make_server("127.0.0.1", port, app, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()

with app.app_context():
    found = websub.discover(feed_url)
    print("discovered", found, flush=True)
    subscriber.subscribe(secret="flask-websub-secret", lease_seconds=3600, **found)

if not verified.wait(20) or failures:
    sys.exit(f"subscription not verified: {failures}")
print("verified", flush=True)

with open(post_file, encoding="utf-8") as f:
    text = f.read()
start = text.index("title:")
end = text.index("\n", start)
tmp_post = post_file + ".tmp"
with open(tmp_post, "w", encoding="utf-8") as f:
    f.write(text[:start] + "title: " + new_title + text[end:])
os.rename(tmp_post, post_file)

if not notified.wait(20):
    sys.exit(f"no notification with the new title ({len(bodies)} others)")
with open(out_file, "wb") as f:
    f.write(next(b for b in bodies if new_title.encode() in b))
print("notified", flush=True)
server.shutdown()
