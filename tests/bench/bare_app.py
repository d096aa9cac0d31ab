"""The yardstick for webhook ingest: a bare FastAPI endpoint that reads the body and answers
204, served exactly as the service is (uvicorn, same options)."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

app = FastAPI()


@app.post("/webhooks/hubspot/{connection_id}", status_code=204)
async def bare(connection_id: str, request: Request) -> Response:
    """Read the body, answer 204."""
    await request.body()
    return Response(status_code=204)
