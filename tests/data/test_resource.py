"""Resource.from_spec: a method YAML weights entry -> what fetch takes; bad entries one error."""

from __future__ import annotations

import pytest

from hfpl.data.resource import Resource

ENTRY = {
    "smoke": "resnet38-imagenet-mxnet",
    "md5": "ff21f45d6bf03284100dcbec571edfad",
    "urls": [],
    "manual": "Google Drive https://drive.google.com/file/d/X/view (README)",
    "loading": "MXNet NDArray list -> ResNet-38 state dict (hfpl.data.mxnet)",
}


def test_entry_becomes_a_resource():
    res = Resource.from_spec("w.params", ENTRY)
    assert res == Resource(
        "w.params", urls=(), md5=ENTRY["md5"], manual=ENTRY["manual"], loading=ENTRY["loading"]
    )
    hub = Resource.from_spec(
        "r.pth", {"urls": ["https://x/r.pth"], "sha256_prefix": "19c8e357", "loading": "hub"}
    )
    assert (hub.urls, hub.sha256_prefix, hub.manual) == (("https://x/r.pth",), "19c8e357", "")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"urls": None}, "lacks urls: add them to the method YAML"),
        ({"loading": None}, "lacks loading"),
        ({"manual": None}, "has no urls: add `manual`"),
        ({"urls": "https://x"}, "urls must be a list of strings"),
        ({"sha1": "abc"}, "unknown keys ['sha1']; allowed:"),
    ],
)
def test_bad_entry_is_one_error_naming_the_fix(change, message):
    entry = {k: v for k, v in {**ENTRY, **change}.items() if v is not None}
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Resource.from_spec("w.params", entry)
    with pytest.raises(ValueError, match="must be a mapping"):
        Resource.from_spec("w.params", ["urls"])
