"""The Flask routes: a JSON object serialized per request, and a 4 KB POST echoed."""
import json
import os

from flask import Flask, Response, jsonify, request

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "payload.json"), encoding="utf-8") as f:
    PAYLOAD = json.load(f)

app = Flask(__name__)
app.json.sort_keys = False  # keep the payload's key order, as the JavaScript peers do
app.json.compact = True


@app.get("/flask/json")
def flask_json():
    return jsonify(PAYLOAD)


@app.post("/flask/echo")
def flask_echo():
    return Response(request.get_data(), mimetype="application/octet-stream")
