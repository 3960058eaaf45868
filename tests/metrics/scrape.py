"""Reading a `/metrics` answer with the official parser (prometheus_client.parser)."""

from __future__ import annotations

from typing import Dict, List

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


def parse(text: str) -> Dict[str, List[Sample]]:
    """Every sample of a scrape, by sample name; raises if the text does not parse."""
    samples: Dict[str, List[Sample]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: Dict[str, List[Sample]], name: str, **labels) -> float:
    """The sum of the samples named `name` whose labels include `labels` (0 when none)."""
    return sum(s.value for s in samples.get(name, []) if all(s.labels.get(k) == str(v) for k, v in labels.items()))


def label_values(samples: Dict[str, List[Sample]], name: str, label: str) -> set:
    return {s.labels.get(label) for s in samples.get(name, [])}
