"""The look the figures of the diagnostics and the experiments share."""

# Each curve's line style and (unfilled) marker, in `signal_propagation`'s
# figure and in `compare`'s: curves that coincide, such as two stuck at 0,
# stay told apart.
LINE_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))
MARKERS = ("o", "s", "^", "D", "v", "P", "*", "<", ">", "h")
