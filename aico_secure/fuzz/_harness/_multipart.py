"""One fuzz input as a ZeroMQ multipart message: shared by the bus harnesses and by the test that replays their
corpus through a real broker, so both read an input as the same frames.

Layout (what ``atheris.FuzzedDataProvider`` reads): the small integers come from the end of the input (a choice
among the harness's variants, the frame count, then a 16-bit length for every frame but the last), the frame
bytes from the front; the last frame takes whatever is left. ``encode`` writes that layout, so seeds taken from
real messages are stored as inputs that decode back to exactly those frames.
"""

from __future__ import annotations

MAX_FRAME_LEN = 0xFFFF


class NotEncodable(ValueError):
    """Frames that this layout cannot carry (too many, or one longer than 65535 bytes)."""


def decode(data: bytes, *, choices: int, max_frames: int) -> tuple[int, list[bytes]]:
    """(choice in ``range(choices)``, 1..max_frames frames) for any bytes."""
    import atheris

    fdp = atheris.FuzzedDataProvider(data)
    choice = fdp.ConsumeIntInRange(0, choices - 1) if choices > 1 else 0
    count = fdp.ConsumeIntInRange(1, max_frames)
    frames = [fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, MAX_FRAME_LEN)) for _ in range(count - 1)]
    frames.append(fdp.ConsumeBytes(fdp.remaining_bytes()))
    return choice, frames


def encode(choice: int, frames: list[bytes], *, choices: int, max_frames: int) -> bytes:
    """The input that ``decode`` reads back as ``(choice, frames)``; checked by decoding it again."""
    if not 1 <= len(frames) <= max_frames or any(len(f) > MAX_FRAME_LEN for f in frames[:-1]):
        raise NotEncodable(f"{len(frames)} frames do not fit the layout (1..{max_frames}, each <= 65535 bytes)")
    taken_from_end = [choice] if choices > 1 else []
    taken_from_end.append(len(frames) - 1)
    for frame in frames[:-1]:
        taken_from_end += [len(frame) >> 8, len(frame) & 0xFF]
    data = b"".join(frames) + bytes(reversed(taken_from_end))
    if decode(data, choices=choices, max_frames=max_frames) != (choice, frames):
        raise NotEncodable("FuzzedDataProvider no longer reads the layout this encoder writes")
    return data
