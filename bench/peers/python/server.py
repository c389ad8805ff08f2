"""A peer shaped like Herald's seed design: a dict of user -> socket, and
POST /send pushes a DESKTOP message and a COUNT to each target socket.
Nothing is stored. Run: uvicorn server:app --port PORT
"""
import json

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect

app = FastAPI()
sockets: dict[str, WebSocket] = {}
counts: dict[str, int] = {}


def dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"))


@app.get("/health")
async def health():
    return {"ok": True}


@app.websocket("/ws")
async def ws_endpoint(websocket: WebSocket, user: str):
    await websocket.accept()
    sockets[user] = websocket
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        if sockets.get(user) is websocket:
            del sockets[user]


@app.post("/send")
async def send(request: Request):
    msg = await request.json()
    targets = list(sockets) if msg.get("broadcast") else msg.get("to", [])
    desktop = dumps({"type": "DESKTOP", "title": msg.get("title"), "content": msg.get("content")})
    for user in targets:
        ws = sockets.get(user)
        if ws is None:
            continue
        counts[user] = counts.get(user, 0) + 1
        try:
            await ws.send_text(desktop)
            await ws.send_text(dumps({"type": "COUNT", "count": counts[user]}))
        except Exception:
            sockets.pop(user, None)
    return {"recipients": len(targets)}
