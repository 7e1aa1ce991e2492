"""Config validation (one message naming file, key and fix) and the plan built from it."""

from __future__ import annotations

import os
from pathlib import Path

import fixture_project
import pytest
import yaml

from hfpl.workflow import plan
from hfpl.workflow.config import ConfigError, Run, load_workflow_config

SCHEMAS = fixture_project.ROOT / "workflow" / "schemas"
R = "    resources: {gpu: 0, mem_mb: 500, runtime: 5}"  # the fixture's cams step


def _config(**override) -> dict:
    config = yaml.safe_load((fixture_project.HERE / "config.yaml").read_text())
    return {**config, **override}


def test_fixture_config_loads_and_expands(workdir: Path) -> None:
    cfg = load_workflow_config(_config(variants=["baseline", "isl_lambda_0.2"]), SCHEMAS)
    assert [(r.variant, r.seed) for r in cfg.runs] == [
        ("baseline", 0), ("baseline", 1), ("isl_lambda_0.2", 0), ("isl_lambda_0.2", 1)
    ]  # fmt: skip
    # the sweep overrides the base's flag, also where the base had a per-method value
    assert plan.flags(cfg, "fixture", "isl_lambda_0.2") == ["--hfpl-isl-weight", "0.2"]
    assert plan.flags(cfg, "fixture", "isl") == ["--hfpl-isl-weight", "1.0"]
    run = Run("voc", "fixture", "isl", 1)
    job = plan.step_job(cfg, run, "cams")
    assert job.argv[-4:] == ("--seed", "1", "--hfpl-isl-weight", "1.0")
    assert job.run_dir == os.path.abspath("results/runs/voc/fixture/isl/seed1/cams")
    inputs = plan.step_inputs(cfg, run, "labels")
    assert plan.manifest_path(cfg, run, "cams") in inputs
    assert [i for i in inputs if "checkouts" in i] == [
        plan.checkout_marker(cfg, cfg.repos["fixture"]["SEG"])
    ]


def test_smoke_overrides_merge(workdir: Path) -> None:
    cfg = load_workflow_config(_config(smoke=True), SCHEMAS)
    assert cfg.methods["fixture"]["steps"]["labels"]["argv"][-1] == "0.4"
    assert cfg.methods["fixture"]["steps"]["labels"]["outputs"] == ["labels"]  # kept


def test_tree_key_follows_patch_content(workdir: Path) -> None:
    before = load_workflow_config(_config(), SCHEMAS).repos["fixture"]
    patch = workdir / "fixture/patches/seg-net/0001-background-flag.patch"
    patch.write_text(patch.read_text() + "\n")
    cfg = load_workflow_config(_config(), SCHEMAS)
    assert cfg.repos["fixture"]["SEG"].tree_key != before["SEG"].tree_key
    assert cfg.repos["fixture"]["CAM"].tree_key == before["CAM"].tree_key


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"seeds": "0-4"}, "config: seeds: '0-4' is not of type 'array'"),
        ({"executor": {"kind": "podman"}}, "executor.kind: 'podman' is not one of"),
        ({"variants": ["baseline", "isl_fls"]}, "unknown variant 'isl_fls'; define it in"),
        ({"methods": ["seam"]}, "unknown method 'seam' (no fixture/methods/seam.yaml)"),
        ({"data": {"roots": {}}}, "data.roots.voc: missing; set it to the dataset's root folder"),
        ({"upstream": {"url_template": "x"}}, "upstream.url_template: 'x' does not match"),
        ({"preflight": "yes please"}, "preflight: 'yes please' is not one of ['auto', True,"),
    ],
)
def test_config_errors(workdir: Path, override: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_workflow_config(_config(**override), SCHEMAS)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def _method_error(workdir: Path, old: str, new: str) -> str:
    text = (fixture_project.HERE / "methods" / "fixture.yaml").read_text()
    assert old in text
    (workdir / "fixture/methods/fixture.yaml").write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        load_workflow_config(_config(), SCHEMAS)
    return str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    outputs: [cams]", "    output: [cams]", "steps.cams: unknown key 'output'"),
        ("e9820066aff934f7af22370dcdb6e05c5e21854c", "e982006", "'e982006' is not a full 40-hex"),
        (
            '"{checkout[CAM]}/make_cams.py"',
            '"{checkout[CMA]}/make_cams.py"',
            "{checkout[CMA]} names no repo",
        ),
        (
            '"{step_dir[cams]}/cams"',
            '"{step_dir[labels]}/cams"',
            "{step_dir[labels]} must name an earlier step",
        ),
        ('"{run_dir}/cams"', '"{rundir}/cams"', "unknown placeholder {rundir}"),
        (
            "fixture/patches/seg-net",
            "fixture/patches/segnet",
            "no *.patch files in fixture/patches/segnet",
        ),
        (
            "        format: label-png",
            "        format: jpg",
            "pseudo_train.format: unknown format 'jpg'; use one of cam-dict, ",
        ),
        (
            "        num_classes: 21\n        sweep",
            "        sweep",
            "evaluations.cam_train: missing key 'num_classes'; add it",
        ),
        (
            '      - "{data_root}/VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt"\n'
            "      - --out",
            '      - "{lists}/train.txt"\n      - --out',
            "lists: no entry for 'voc', but its steps use {lists}; declare the list files",
        ),
        # resources, estimate, per_dataset: typos, and datasets the method does not run on
        (R, R.replace("runtime", "run_time"), "steps.cams.resources: unknown key 'run_time'"),
        (R, f"{R}\n    estimate: {{gpu_hour: 2}}", "steps.cams.estimate: unknown key 'gpu_hour'"),
        (
            R,
            f"{R}\n    per_dataset: {{voc: {{resource: {{gpu: 1}}}}}}",
            "steps.cams.per_dataset.voc: unknown key 'resource' (allowed: estimate, resources)",
        ),
        (
            R,
            f"{R}\n    per_dataset: {{voc: {{estimate: {{gpu_mem: 1}}}}}}",
            "per_dataset.voc.estimate: unknown key 'gpu_mem' (allowed: gpu_hours, gpu_mem_mb)",
        ),
        (
            R,
            f"{R}\n    per_dataset: {{coco: {{resources: {{gpu: 4}}}}}}",
            "steps.cams.per_dataset.coco: the method does not support 'coco' (datasets: ['voc'])",
        ),
    ],
)
def test_method_errors(workdir: Path, old: str, new: str, message: str) -> None:
    assert message in _method_error(workdir, old, new)


def _write_method(workdir: Path, name: str, **keys) -> None:
    """A copy of the fixture method as ``name``, with ``keys`` added to it."""
    doc = yaml.safe_load((fixture_project.HERE / "methods" / "fixture.yaml").read_text())
    (workdir / f"fixture/methods/{name}.yaml").write_text(yaml.safe_dump({**doc, **keys}))


WEIGHTS = {"smoke": "torchvision-resnet50", "sha256_prefix": "19c8e357", "urls": [], "loading": "z"}


def test_weights_file_declared_differently_by_two_methods(workdir: Path) -> None:
    _write_method(workdir, "fixture", weights={"r50.pth": WEIGHTS})
    _write_method(workdir, "other", weights={"r50.pth": {**WEIGHTS, "sha256_prefix": "00000000"}})
    same = load_workflow_config(_config(methods=["fixture"]), SCHEMAS)
    assert same.weights == {"r50.pth": WEIGHTS}
    with pytest.raises(ConfigError) as err:
        load_workflow_config(_config(methods=["fixture", "other"]), SCHEMAS)
    assert str(err.value).startswith(
        "fixture/methods/other.yaml: weights.r50.pth: declared differently in "
        "fixture/methods/fixture.yaml; give the same facts"
    )
    _write_method(workdir, "other", weights={"r50.pth": WEIGHTS})
    cfg = load_workflow_config(_config(methods=["fixture", "other"]), SCHEMAS)
    assert cfg.weights == {"r50.pth": WEIGHTS}


def test_smoke_data_smaller_than_a_method_needs(workdir: Path) -> None:
    _write_method(workdir, "fixture", smoke={"data": {"images": 12, "size": 96}})
    smoke = {"generate": True, "images": 12, "size": 64}
    with pytest.raises(ConfigError) as err:
        load_workflow_config(_config(smoke=True, data={"smoke": smoke}), SCHEMAS)
    assert str(err.value) == (
        "config: data.smoke.size: 64 is too small for fixture/methods/fixture.yaml "
        "(smoke.data.size: 96); set data.smoke.size to at least 96"
    )
    smoke["size"] = 96
    load_workflow_config(_config(smoke=True, data={"smoke": smoke}), SCHEMAS)


def test_two_datasets_on_one_root(workdir: Path) -> None:
    _write_method(workdir, "fixture", datasets=["voc", "coco"])
    config = _config(datasets=["voc", "coco"], data={"roots": {"voc": "data", "coco": "data/"}})
    with pytest.raises(ConfigError, match=r"data.roots: 'data' is the root of several datasets"):
        load_workflow_config(config, SCHEMAS)


def test_image_template_must_only_use_image(workdir: Path) -> None:
    executor = {"kind": "docker", "docker": {"image": "hfpl/{name}:latest"}}
    with pytest.raises(ConfigError, match=r"executor.docker.image: .* not a template over"):
        load_workflow_config(_config(executor=executor), SCHEMAS)


PRIOR = {"path": "prior.npy", "format": "fg-ratio-npy-dict", "splits": ["train_aug"]}
IDS = {"path": "train.txt", "format": "id-per-line", "split": "train_aug"}


def test_smoke_lists_are_written_in_smoke_mode_only(workdir: Path) -> None:
    doc = yaml.safe_load((fixture_project.HERE / "methods" / "fixture.yaml").read_text())
    smoke = {**doc["smoke"], "lists": {"voc": [PRIOR]}}
    _write_method(workdir, "fixture", lists={"voc": [IDS]}, smoke=smoke)
    assert load_workflow_config(_config(), SCHEMAS).methods["fixture"]["lists"] == {"voc": [IDS]}
    cfg = load_workflow_config(_config(smoke=True), SCHEMAS)
    assert cfg.methods["fixture"]["lists"] == {"voc": [IDS, PRIOR]}
    _write_method(workdir, "fixture", smoke={**smoke, "lists": {"coco": [PRIOR]}})
    with pytest.raises(ConfigError, match=r"smoke.lists.coco: the method does not support 'coco'"):
        load_workflow_config(_config(), SCHEMAS)  # checked in a real run's config too


def test_smoke_step_must_not_name_weights_without_a_stand_in(workdir: Path) -> None:
    doc = yaml.safe_load((fixture_project.HERE / "methods" / "fixture.yaml").read_text())
    prior = {"urls": [], "manual": "from the authors' Drive", "loading": "np.load"}
    doc["steps"]["cams"]["argv"] += ["--prior", "{weights_dir}/prior.npy"]
    (workdir / "fixture/methods/fixture.yaml").write_text(
        yaml.safe_dump({**doc, "weights": {"prior.npy": prior}})
    )
    cfg = load_workflow_config(_config(), SCHEMAS)  # a real run fetches it (manual message)
    assert "prior.npy" in cfg.weights
    with pytest.raises(ConfigError) as err:
        load_workflow_config(_config(smoke=True), SCHEMAS)
    assert str(err.value) == (
        "fixture/methods/fixture.yaml: steps.cams: in smoke mode it names "
        "{weights_dir}/prior.npy, which has no smoke stand-in (weights.prior.npy.smoke); give it "
        "one, or override the step in smoke.steps to read a smoke-only list (smoke.lists)"
    )
    smoke_argv = [a for a in doc["steps"]["cams"]["argv"] if "prior" not in a]
    doc["smoke"]["steps"]["cams"] = {"argv": smoke_argv}
    (workdir / "fixture/methods/fixture.yaml").write_text(
        yaml.safe_dump({**doc, "weights": {"prior.npy": prior}})
    )
    load_workflow_config(_config(smoke=True), SCHEMAS)


@pytest.mark.parametrize(
    ("regex", "message"),
    [("mIoU: ([0-9.]+)", "no named group (?P<J>...) for the printed J; add one"),
     ("mIoU: (?P<J>[0-9.]+", "not a regular expression (missing ), unterminated subpattern")],
)  # fmt: skip
def test_upstream_log_regex_is_checked_at_load(workdir: Path, regex: str, message: str) -> None:
    doc = yaml.safe_load((fixture_project.HERE / "methods" / "fixture.yaml").read_text())
    doc["steps"]["cams"]["evaluations"]["cam_train"]["upstream_log"] = {
        "regex": regex, "convention": "gt"
    }  # fmt: skip
    (workdir / "fixture/methods/fixture.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as err:
        load_workflow_config(_config(), SCHEMAS)
    where = "fixture/methods/fixture.yaml: steps.cams.evaluations.cam_train.upstream_log.regex"
    assert str(err.value).startswith(f"{where}: {message}")


def test_upstream_log_becomes_eval_arguments_on_the_step_log(workdir: Path) -> None:
    doc = yaml.safe_load((fixture_project.HERE / "methods" / "fixture.yaml").read_text())
    up = {"regex": "t (?P<t>[0-9.]+) J (?P<J>[0-9.]+)", "convention": "all"}
    doc["steps"]["cams"]["evaluations"]["cam_train"]["upstream_log"] = up
    (workdir / "fixture/methods/fixture.yaml").write_text(yaml.safe_dump(doc))
    cfg = load_workflow_config(_config(), SCHEMAS)
    run = Run("voc", "fixture", "baseline", 0)
    argv = plan.evaluation_argv(cfg, run, "cams", "cam_train")
    log = os.path.join(plan.run_dir(cfg, run, "cams"), "log.txt")
    i = argv.index("--upstream-log")
    assert argv[i : i + 6] == [
        "--upstream-log", log, "--upstream-regex", up["regex"], "--upstream-convention", "all"
    ]  # fmt: skip


def test_upstream_log_file_is_a_template_over_the_step(workdir: Path) -> None:
    doc = yaml.safe_load((fixture_project.HERE / "methods" / "fixture.yaml").read_text())
    up = {"file": "{run_dir}/scores.json", "regex": '"Mean IoU": (?P<J>[0-9.]+)',
          "convention": "gt", "scale": 100}  # fmt: skip
    doc["steps"]["cams"]["evaluations"]["cam_train"]["upstream_log"] = up
    (workdir / "fixture/methods/fixture.yaml").write_text(yaml.safe_dump(doc))
    cfg = load_workflow_config(_config(), SCHEMAS)
    run = Run("voc", "fixture", "baseline", 0)
    argv = plan.evaluation_argv(cfg, run, "cams", "cam_train")
    scores = os.path.join(os.path.abspath(plan.run_dir(cfg, run, "cams")), "scores.json")
    assert argv[argv.index("--upstream-log") + 1] == scores
    assert argv[argv.index("--upstream-scale") + 1] == "100"
    up["file"] = "{run_dir}/{nope}/scores.json"
    (workdir / "fixture/methods/fixture.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match=r"steps.cams.evaluations.cam_train.upstream_log.file"):
        load_workflow_config(_config(), SCHEMAS)
