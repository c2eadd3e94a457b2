#!/usr/bin/python3
"""Labelled OCR sets of our own for PP-OCRv4's recognizer and detector,
rendered here from Debian's Liberation and FreeFont faces (other faces,
text and augmentation than make-samples.py's DejaVu lines), with
calibration and held-out splits:

  rec/{calib,eval}/NNN.npy   text lines as the recognizer takes them
                             (1x3x48x320: height 48, aspect kept, padded
                             right, (x/255 - 0.5) / 0.5); rec/labels.txt
                             holds "split/NNN<TAB>text"
  det/{calib,eval}/NNN.npy   640x640 pages of 3-8 lines at random places,
                             sizes, faces and shades (1x3x640x640, the
                             detector's ImageNet mean/std normalization);
                             det/boxes.json: {"split/NNN": [[x0, y0, x1,
                             y1], ...]} the lines' boxes in pixels

Text: words of the Apache and MPL licences in /usr/share/common-licenses,
mixed with numbers, prices, dates and codes. Augmentation: ink and paper
shades, a rotation of up to 1.5 degrees (lines), Gaussian blur, noise.

    ocr_sets.py OUT [--rec-calib 64] [--rec-eval 200] [--det-calib 16]
                [--det-eval 40] [--seed 0] [--pack FILE.npz]

--pack also writes the calibration splits small enough to carry to the
device machine for ort-quantize-ocr.py (the pages as their 8-bit grey
pixels).
"""
import argparse
import glob
import json
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FACES = sorted(glob.glob("/usr/share/fonts/truetype/liberation2/*.ttf") +
               glob.glob("/usr/share/fonts/truetype/freefont/*.ttf"))
CORPORA = ["/usr/share/common-licenses/Apache-2.0", "/usr/share/common-licenses/MPL-2.0"]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def words():
    out = []
    for path in CORPORA:
        for w in open(path, encoding="utf-8").read().split():
            w = w.strip("\"'()[]{}<>*_`")
            if w and w.isascii() and w.isprintable():
                out.append(w)
    return out


def token(rng, vocab):
    r = rng.random()
    if r < 0.72:
        return vocab[rng.integers(len(vocab))]
    if r < 0.80:
        return str(int(rng.integers(0, 100000)))
    if r < 0.86:
        return f"${rng.integers(1, 999)}.{rng.integers(0, 100):02d}"
    if r < 0.92:
        return f"{rng.integers(1, 29)} {MONTHS[rng.integers(12)]} {rng.integers(1990, 2030)}"
    return f"{chr(65 + rng.integers(26))}{chr(65 + rng.integers(26))}-{rng.integers(100, 9999)}"


def phrase(rng, vocab, lo, hi):
    return " ".join(token(rng, vocab) for _ in range(int(rng.integers(lo, hi + 1))))


def shades(rng):
    paper = int(rng.integers(190, 256))
    ink = int(rng.integers(0, 90))
    return paper, ink


def render_line(rng, vocab):
    """One text line as an RGB image cropped around its text, and the text."""
    text = phrase(rng, vocab, 2, 5)
    font = ImageFont.truetype(FACES[rng.integers(len(FACES))], int(rng.integers(26, 42)))
    paper, ink = shades(rng)
    x0, y0, x1, y1 = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text, font=font)
    pad = int(rng.integers(3, 10))
    img = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), paper)
    ImageDraw.Draw(img).text((pad - x0, pad - y0), text, fill=ink, font=font)
    img = img.rotate(float(rng.uniform(-1.5, 1.5)), resample=Image.BILINEAR, expand=False,
                     fillcolor=paper)
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.0))))
    a = np.asarray(img, np.float32)
    a = np.clip(a + rng.normal(0, rng.uniform(0, 8), a.shape), 0, 255)
    return Image.fromarray(a.astype(np.uint8)).convert("RGB"), text


def rec_input(img):
    """PaddleOCR's recognizer preprocessing: height 48, width <= 320 (None
    when the line is wider), (x/255 - 0.5) / 0.5, CHW, padded right."""
    w = int(np.ceil(48 * img.width / img.height))
    if w > 320:
        return None
    a = np.asarray(img.resize((w, 48), Image.BILINEAR), np.float32) / 255.0
    x = np.zeros((1, 3, 48, 320), np.float32)
    x[0, :, :, :w] = ((a - 0.5) / 0.5).transpose(2, 0, 1)
    return x


MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def render_page(rng, vocab, size=640):
    """A page of 3-8 non-overlapping lines; its image and the lines' boxes."""
    paper, _ = shades(rng)
    img = Image.new("L", (size, size), paper)
    draw = ImageDraw.Draw(img)
    boxes = []
    for _ in range(int(rng.integers(3, 9))):
        for _attempt in range(30):
            text = phrase(rng, vocab, 1, 4)
            font = ImageFont.truetype(FACES[rng.integers(len(FACES))], int(rng.integers(18, 44)))
            bx0, by0, bx1, by1 = draw.textbbox((0, 0), text, font=font)
            w, h = bx1 - bx0, by1 - by0
            if w >= size - 20:
                continue
            x = int(rng.integers(10, size - 10 - w))
            y = int(rng.integers(10, size - 10 - h))
            box = [x, y, x + w, y + h]
            if any(not (box[2] + 8 < b[0] or b[2] + 8 < box[0] or box[3] + 8 < b[1] or
                        b[3] + 8 < box[1]) for b in boxes):
                continue
            draw.text((x - bx0, y - by0), text, fill=int(rng.integers(0, 90)), font=font)
            boxes.append(box)
            break
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 0.9))))
    a = np.asarray(img, np.float32)
    # 8-bit pixels, as a scanned or photographed page has
    a = np.round(np.clip(a + rng.normal(0, rng.uniform(0, 8), a.shape), 0, 255)) / 255.0
    rgb = np.repeat(a[:, :, None], 3, axis=2)
    x = ((rgb - MEAN) / STD).transpose(2, 0, 1)[None].astype(np.float32)
    return x, boxes, np.round(a * 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rec-calib", type=int, default=64)
    ap.add_argument("--rec-eval", type=int, default=200)
    ap.add_argument("--det-calib", type=int, default=16)
    ap.add_argument("--det-eval", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pack")
    a = ap.parse_args()
    if not FACES:
        raise SystemExit("no Liberation or FreeFont faces: scripts/install-deps.sh installs them")
    vocab = words()
    rng = np.random.default_rng(a.seed)
    labels = []
    for split, n in (("calib", a.rec_calib), ("eval", a.rec_eval)):
        os.makedirs(f"{a.out}/rec/{split}", exist_ok=True)
        i = 0
        while i < n:
            img, text = render_line(rng, vocab)
            x = rec_input(img)
            if x is None:
                continue
            np.save(f"{a.out}/rec/{split}/{i:03d}.npy", x)
            labels.append(f"{split}/{i:03d}\t{text}")
            i += 1
    with open(f"{a.out}/rec/labels.txt", "w", encoding="utf-8") as f:
        f.write("\n".join(labels) + "\n")
    boxes, grey = {}, []
    for split, n in (("calib", a.det_calib), ("eval", a.det_eval)):
        os.makedirs(f"{a.out}/det/{split}", exist_ok=True)
        for i in range(n):
            x, b, g = render_page(rng, vocab)
            np.save(f"{a.out}/det/{split}/{i:03d}.npy", x)
            boxes[f"{split}/{i:03d}"] = b
            if split == "calib":
                grey.append(g)
    if a.pack:
        rec = np.stack([np.load(f"{a.out}/rec/calib/{i:03d}.npy") for i in range(a.rec_calib)])
        np.savez_compressed(a.pack, rec=rec, det=np.stack(grey))
    with open(f"{a.out}/det/boxes.json", "w") as f:
        json.dump(boxes, f)
    print(f"{a.out}: rec {a.rec_calib} + {a.rec_eval} lines, det {a.det_calib} + {a.det_eval} "
          f"pages ({sum(len(v) for v in boxes.values())} boxes)")


if __name__ == "__main__":
    main()
