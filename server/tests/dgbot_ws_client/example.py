# Seed 001's "Python example", as published (its indentation restored). The test swaps the host
# name and YOUR_ID for the test server's, and changes nothing else.
import asyncio, websockets, json
async def chat():
    uri = "wss://dgbot.dgtech.co.in/ws?key=YOUR_ID&visitor_id=test_001"
    async with websockets.connect(uri) as ws:
        await ws.send(json.dumps({
            "type": "message",
            "content": "What are your shipping times?"
        }))
        response_parts = []
        async for raw in ws:
            event = json.loads(raw)
            if event["type"] == "stream_chunk":
                response_parts.append(event["content"])
                print(event["content"], end="", flush=True)
            elif event["type"] == "stream_end":
                break
        full_response = "".join(response_parts)
        print("\n\nFull response:", full_response)
asyncio.run(chat())
