"""Statement extraction: from news text to (actor, speaker, topic, stance, claim, why).

`Extractor` is built once from the configured actors and topics and then
called per item; `load_default_specs` gives the bundled actors and topics.
"""

from __future__ import annotations

from sources.extraction.extractor import MAX_CHARS, Extractor
from sources.extraction.specs import load_default_specs, specs_from_mapping

__all__ = ["MAX_CHARS", "Extractor", "load_default_specs", "specs_from_mapping"]
