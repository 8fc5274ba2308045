"""The server's object selectors: each loaded once, on the first device, and kept with its image embeddings
(`SamSelector` keeps the last few pictures' embeddings), so a click on a picture already seen runs only the
prompt decoder. At most `capacity` models with weights stay loaded, least recently used out."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from retouch.engines.select import GRABCUT, Selector, SelectorFactory, get_selector


class SelectorCache:
    def __init__(self, selectors: Mapping[str, SelectorFactory], device: str, capacity: int = 2) -> None:
        self.selectors = selectors  # the server's table: a model an install adds is selectable at once
        self.device = device
        self.capacity = capacity
        self._loaded: OrderedDict[str, Selector] = OrderedDict()
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return sorted(self.selectors)

    def get(self, name: str | None) -> Selector:
        """The selector called `name` (None = grabcut), made on first use; an unknown name is an `InputError`."""
        name = name or GRABCUT
        with self._lock:
            if name in self._loaded:
                self._loaded.move_to_end(name)
                return self._loaded[name]
            selector = get_selector(name, self.selectors)
            selector.device = self.device
            self._loaded[name] = selector
            with_weights = [key for key, value in self._loaded.items() if value.needs_weights]
            for key in with_weights[: max(0, len(with_weights) - self.capacity)]:
                del self._loaded[key]
            return selector
