# ruff: noqa: RUF001  (the Chinese answers are punctuated in full-width, as Chinese is)
"""The demo's work for the workspace: images, audio clips and chatbot answers of its own,
and small orders of each built-in task type that Lotus has claimed, so Li Na can take
tasks offline right after `make run`.

The media are generated here with the standard library alone (PNG by zlib and struct,
WAV by `wave`) and shipped under marketplace/pages/static/demo/ (`python -m
marketplace.demo_work` writes them again; a test checks they are what this code makes).
Items point at them by their path on this site: an item's `ref` is where the item is.
"""

import io
import math
import struct
import sys
import wave
import zlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.identity.actor import Actor
from marketplace.orders import claims
from marketplace.orders import service as orders
from marketplace.orders.models import Batch, BatchStatus
from marketplace.workers import service as workers

MEDIA = Path(__file__).parent / "pages" / "static" / "demo"
MEDIA_URL = "/pages/static/demo/"
WIDTH, HEIGHT = 1280, 720
SKY, ROAD, LINE = (173, 206, 235), (92, 96, 104), (240, 240, 240)
# Street scenes: cars (wide) and people (tall), as (x, y, w, h, colour) in pixels.
SCENES = {
    "street-1.png": [
        (120, 430, 260, 140, (200, 40, 40)),
        (520, 450, 300, 150, (30, 90, 180)),
        (960, 380, 60, 170, (60, 60, 60)),
    ],
    "street-2.png": [
        (80, 400, 70, 190, (120, 60, 140)),
        (300, 460, 340, 160, (240, 200, 40)),
        (860, 420, 280, 140, (40, 140, 80)),
    ],
    "street-3.png": [
        (200, 470, 380, 170, (250, 250, 250)),
        (700, 390, 55, 160, (200, 90, 30)),
        (820, 395, 55, 155, (20, 20, 120)),
    ],
}
RATE = 8000  # samples a second: a voice line's rate, and small files
CLIPS = {
    "clip-clean.wav": (440.0, 0.0, 0),  # a steady tone
    "clip-faults.wav": (330.0, 0.15, 4),  # a tone with noise and four drop-outs
    "clip-noise.wav": (220.0, 0.9, 0),  # mostly noise
}
ANSWERS = [
    ("北京到上海的高铁大约需要多长时间？", "最快的复兴号约 4 小时 18 分，一般车次 5 到 6 小时。"),
    ("What is the boiling point of water at sea level?", "100 °C, or 212 °F."),
    ("如何在 Excel 中冻结首行？", "视图 → 冻结窗格 → 冻结首行。"),
    ("Who wrote 'Dream of the Red Chamber'?", "It was written by Lu Xun in 1921."),
    ("推荐一个周末放松的方法。", "可以去公园散步，或者读一本喜欢的书。"),
]
ERROR_TYPES = ["factually_wrong", "unhelpful", "unsafe", "off_topic"]


def png(width: int, height: int, shapes: list) -> bytes:
    """An RGB PNG: sky, road, a lane line, and filled rectangles."""
    rows = bytearray()
    for y in range(height):
        colour = SKY if y < height * 0.5 else ROAD
        row = bytearray(bytes(colour) * width)
        if abs(y - int(height * 0.8)) < 4:
            row[:] = bytes(LINE) * width
        for x0, y0, w, h, fill in shapes:
            if y0 <= y < y0 + h:
                row[3 * x0 : 3 * (x0 + w)] = bytes(fill) * w
        rows += b"\x00" + row  # filter: none

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def wav(tone: float, noise: float, dropouts: int, seconds: float = 1.5) -> bytes:
    """A 16-bit mono WAV: a tone, some noise (a fixed pseudo-random sequence, so the
    file is the same every time) and silent drop-outs."""
    frames = bytearray()
    seed = 12345
    count = int(RATE * seconds)
    gap = count // (dropouts + 1) if dropouts else 0
    for n in range(count):
        seed = (1103515245 * seed + 12345) % 2**31
        value = (1 - noise) * math.sin(2 * math.pi * tone * n / RATE)
        value += noise * (seed / 2**30 - 1)
        if gap and n % gap < RATE // 20 and n > gap // 2:
            value = 0.0
        frames += struct.pack("<h", int(value * 12000))
    out = io.BytesIO()
    with wave.open(out, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(RATE)
        clip.writeframes(bytes(frames))
    return out.getvalue()


def media() -> dict[str, bytes]:
    """Every demo file by name, as this code makes it."""
    made = {name: png(WIDTH, HEIGHT, shapes) for name, shapes in SCENES.items()}
    made |= {name: wav(*spec) for name, spec in CLIPS.items()}
    return made


def write_media(folder: Path = MEDIA) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in media().items():
        (folder / name).write_bytes(data)


def seed_work(session: Session, buyer: Actor, owner: Actor) -> None:
    """Three small orders on the demo's media, published by Horizon and claimed by Lotus:
    boxes on street scenes, ratings of chatbot answers, scores of voice clips. Li's level
    pays the first two; the clips get a piece rate."""
    common = {"currency": "CNY", "payment_terms_days": 30, "batch_size": 10}
    boxes = _publish(
        session,
        buyer,
        {
            **common,
            "title": "Street scenes: boxes around cars and people",
            "task_type": "bbox_2d",
            "instructions": "Draw a tight box around every car and every person; label "
            "each box car or person.",
            "unit_price_micros": 100_000,
            "items": [
                {
                    "ref": MEDIA_URL + name,
                    "payload": {"width": WIDTH, "height": HEIGHT, "labels": ["car", "person"]},
                }
                for name in SCENES
            ],
        },
    )
    ratings = _publish(
        session,
        buyer,
        {
            **common,
            "title": "Chatbot answers: rate each 1-5",
            "task_type": "rating_1_5",
            "instructions": "Rate how helpful and correct the answer is; at 2 or lower, "
            "tick what is wrong with it.",
            "task_options": {"error_types": ERROR_TYPES},
            "unit_price_micros": 300_000,
            "items": [
                {"ref": f"demo-answer-{n}", "payload": {"question": q, "answer": a}}
                for n, (q, a) in enumerate(ANSWERS, 1)
            ],
        },
    )
    clips = _publish(
        session,
        buyer,
        {
            **common,
            "title": "Voice clips: score each 0/1/2",
            "task_type": "audio_score_0_2",
            "instructions": "Listen to each clip: 0 unusable, 1 usable with faults, 2 clean.",
            "unit_price_micros": 50_000,
            "items": [{"ref": MEDIA_URL + name} for name in CLIPS],
        },
    )
    for order_id in (boxes, ratings, clips):
        released = session.scalars(
            select(Batch.id).where(Batch.order_id == order_id, Batch.status == BatchStatus.RELEASED)
        ).all()
        for batch_id in released:
            claims.claim_batch(session, owner, batch_id, None)
    workers.set_piece_rate(session, owner, clips, 30_000)


def _publish(session: Session, buyer: Actor, data: dict) -> int:
    order = orders.create_order(session, buyer, data)
    orders.publish_order(session, buyer, order.id)
    return order.id


if __name__ == "__main__":
    write_media(Path(sys.argv[1]) if len(sys.argv) > 1 else MEDIA)
