"""The class report's stylesheet (inline in ``report.html``: the page loads nothing)."""

CSS = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d1d1f;
       margin: 0; background: #f5f6f8; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; }
header h1 { font-size: 24px; margin: 0 0 4px; }
header p { margin: 0; color: #555; }
section { background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; padding: 18px 22px; margin-top: 20px; }
h2 { font-size: 18px; margin: 0 0 12px; }
.stats { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 16px; }
.stat { background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; padding: 10px 16px; min-width: 120px; }
.stat b { display: block; font-size: 22px; }
.stat span { color: #666; font-size: 13px; }
svg.chart { max-width: 100%; height: auto; font-family: inherit; display: block; }
svg#histogram { width: 760px; }
svg .grid { stroke: #e6e6e6; }
svg .tick, svg .axis { font-size: 11px; fill: #555; }
svg .count { font-size: 12px; fill: #222; font-weight: 600; }
svg .fn { font-size: 12px; fill: #222; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
svg .rate { font-size: 12px; fill: #222; font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 13px; margin: 4px 0 10px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #eceef1; vertical-align: top; }
th { background: #fafbfc; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th.part { white-space: normal; font-size: 13px; }
th.part .note { white-space: nowrap; }
.scroll { overflow-x: auto; }
td.dots { white-space: nowrap; line-height: 1; }
.dot { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin: 0 1px; }
.part-gap { margin-left: 6px; }
a { color: #1f5fbf; }
.note { color: #666; font-size: 13px; }
td.ids { color: #555; font-size: 13px; }
.warning { border-color: #c62828; background: #fdecea; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
"""
