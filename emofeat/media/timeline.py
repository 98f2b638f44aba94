"""The presentation time of every frame of a video, from a demux-only pass (no decoding).

Annotations that count video frames (Aff-Wild2's per-frame expression files) are put on the
clip's clock with these times, so a variable-frame-rate video gets its labels at the right
moments.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from emofeat.media._av import check_path, clock_origin, decode_error, nominal_rate, open_input, video_stream
from emofeat.media.images import list_sequence
from emofeat.media.suffixes import is_image_file


def frame_times(path: str | Path, sequence_fps: float = 30.0, origin: Fraction | None = None) -> np.ndarray:
    """``(N,)`` float64 presentation times in seconds on the clip's clock, in order.

    The clip's clock is 0 at the earliest stream start (``origin``, by default the file's
    own: see :func:`emofeat.media.probe`), as for every other time emofeat stores.

    Frame ``i`` of the stream (in presentation order, as :func:`read_frames` counts) is at
    ``frame_times(path)[i]``. A still image is one frame at 0; a folder of image frames is
    timed at ``sequence_fps``; a file without video gives an empty array. When any packet
    lacks a timestamp, every frame is timed by its index and the nominal frame rate.

    Raises
    ------
    MediaError
        When the file cannot be opened or its packets cannot be read.
    """
    p = check_path(path)
    if p.is_dir():
        return np.arange(len(list_sequence(p)), dtype=np.float64) / sequence_fps
    if is_image_file(p):
        return np.zeros(1, np.float64)
    start = clock_origin(p) if origin is None else origin
    with open_input(p) as container:
        stream = video_stream(container)
        if stream is None:
            return np.zeros(0, np.float64)
        tb = stream.time_base
        rate = nominal_rate(stream)  # read while the container is open (PyAV crashes after)
        stamps: list[float] = []
        untimed = 0
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if packet.pts is None or tb is None:
                    untimed += 1
                else:
                    stamps.append(float(packet.pts * tb - start))
        except av.error.FFmpegError as exc:
            raise decode_error(exc, p, "video", len(stamps) + untimed, "packets") from exc
    if untimed:
        # Some packets carry no timestamp (raw elementary streams): frame i is then timed
        # i / nominal rate, as the decoder's frames are, and no frame is lost from the count.
        period = float(1 / rate) if rate else 0.0
        return np.arange(untimed + len(stamps), dtype=np.float64) * period
    return np.sort(np.asarray(stamps, dtype=np.float64))
