"""The size-against-quality plot of the bit-width studies
(bench/transformers/bitwidths.py, bench/quality/bitwidths.py)."""
import numpy as np


def size_plot(points_by_model, path, key="ppl", ylabel="perplexity", yrange=None):
    """Size (KB) against p[key] (perplexity; within `yrange` if given), one
    panel per model; uniform widths as squares, ILP as a line with dots,
    greedy as a dashed line."""
    W, H, pad = 420, 300, 50
    panels = []
    for i, (model, pts) in enumerate(points_by_model.items()):
        xs = [p["bytes"] / 1e3 for p in pts]
        ys = [p[key] for p in pts]
        x0, x1 = min(xs) * 0.95, max(xs) * 1.05
        y0, y1 = yrange or (min(ys) * 0.98, min(max(ys), 3 * min(ys)) * 1.02)
        sx = lambda x: pad + (x - x0) / (x1 - x0) * (W - 2 * pad)  # noqa: E731
        sy = lambda y: H - pad - (min(y, y1) - y0) / (y1 - y0) * (H - 2 * pad)  # noqa: E731
        g = [f'<g transform="translate({i * W},0)">',
             f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">{model}</text>',
             f'<line x1="{pad}" y1="{H - pad}" x2="{W - pad}" y2="{H - pad}" stroke="black"/>',
             f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{H - pad}" stroke="black"/>',
             f'<text x="{W / 2}" y="{H - 10}" text-anchor="middle" font-size="12">'
             f'size the formats need (KB)</text>',
             f'<text x="14" y="{H / 2}" font-size="12" transform="rotate(-90 14 {H / 2})" '
             f'text-anchor="middle">{ylabel}</text>']
        for t in np.linspace(x0, x1, 5):
            g.append(f'<text x="{sx(t):.1f}" y="{H - pad + 15}" font-size="10" '
                     f'text-anchor="middle">{t:.0f}</text>')
        for t in np.linspace(y0, y1, 5):
            g.append(f'<text x="{pad - 4}" y="{sy(t) + 3:.1f}" font-size="10" '
                     f'text-anchor="end">{t:.2f}</text>')
        for kind, color, dash in (("ilp", "#1f77b4", ""), ("greedy", "#d62728", "4,3")):
            line = sorted([p for p in pts if p["kind"] == kind], key=lambda p: p["bytes"])
            if line:
                d = " ".join(f"{sx(p['bytes'] / 1e3):.1f},{sy(p[key]):.1f}" for p in line)
                g.append(f'<polyline points="{d}" fill="none" stroke="{color}" '
                         f'stroke-dasharray="{dash}"/>')
                for p in line:
                    g.append(f'<circle cx="{sx(p["bytes"] / 1e3):.1f}" '
                             f'cy="{sy(p[key]):.1f}" r="3" fill="{color}"/>')
        for p in pts:
            if p["kind"] == "uniform":
                x, y = sx(p["bytes"] / 1e3), sy(p[key])
                g.append(f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" '
                         f'fill="none" stroke="black"/>')
                g.append(f'<text x="{x + 6:.1f}" y="{y - 6:.1f}" font-size="10">'
                         f'{p["name"]}</text>')
        g.append(f'<text x="{W - pad}" y="{pad}" font-size="10" text-anchor="end" '
                 f'fill="#1f77b4">ILP (CBC)</text>')
        g.append(f'<text x="{W - pad}" y="{pad + 14}" font-size="10" text-anchor="end" '
                 f'fill="#d62728">greedy</text>')
        g.append("</g>")
        panels += g
    n = len(points_by_model)
    with open(path, "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{n * W}" height="{H}" '
                f'font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n'
                + "\n".join(panels) + "\n</svg>\n")
