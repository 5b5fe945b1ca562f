# Many seed-001 clients at once (cargo xtask bench-server): each connects, asks one question,
# reads the streamed answer to its `stream_end`, then stays connected and idle until told to
# leave (a line on stdin). Prints one JSON line when all answers are in, one when done.
import asyncio, json, sys, time, websockets

async def visitor(base, i, answered, leave):
    uri = f"{base}/ws?key=demo-shop&visitor_id=load-visitor-{i:05d}"
    async with websockets.connect(uri, open_timeout=60, ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "message", "content": "What are your shipping times?"}))
        chunks = 0
        async for raw in ws:
            event = json.loads(raw)
            if event["type"] == "stream_chunk":
                chunks += 1
            elif event["type"] == "stream_end":
                break
        answered.append(chunks)
        await leave.wait()

async def main():
    base, n = sys.argv[1], int(sys.argv[2])
    answered, leave = [], asyncio.Event()
    started = time.monotonic()
    tasks = [asyncio.create_task(visitor(base, i, answered, leave)) for i in range(n)]
    while len(answered) < n and not any(t.done() for t in tasks):
        await asyncio.sleep(0.05)
    failed = [str(t.exception()) for t in tasks if t.done() and t.exception()]
    print(json.dumps({"answered": len(answered), "failed": failed[:3],
                      "seconds": round(time.monotonic() - started, 2),
                      "chunks_min": min(answered, default=0)}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    leave.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"closed": n}), flush=True)

asyncio.run(main())
