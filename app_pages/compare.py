"""Page under construction by its owner (replaced before release)."""

from ui.layout import page_header
from ui.state import current

page_header(current(), "compare")
