"""DAG pipelines end to end (docs/pipelines.md): the face -> crop -> age/gender example served by the
real binary and called over KServe REST with a JPEG, and a pipeline's status/metadata as version 1.

Pipelines are validated and executed by src/serving/pipeline (unit/integration tests in
tests/pipeline), but the front ends do not route pipeline names yet: that is the single inference
path of issue #8. Until it lands these tests are expected to fail (strict xfail, so they report
XPASS -> failure as soon as the wiring works and the marker must go)."""
import json
import os
import struct

import pytest

from conftest import SHARED, http, ovms_binary

OMZ = os.path.join(SHARED, "fixtures", "omz-ir")
MESSI = os.path.join(SHARED, "fixtures", "images", "messi5.jpg")

pytestmark = pytest.mark.xfail(
    reason="pipelines are not wired into the front ends yet (issue #8: one inference path); "
           "the executor is tested in tests/pipeline", strict=True)


def require_fixtures():
    if not (os.path.isdir(OMZ) and os.path.exists(MESSI)):
        if os.environ.get("CI") == "true":
            pytest.fail(f"../shared fixtures missing: {OMZ}")
        pytest.skip("../shared fixtures not present")


def crop_library():
    return os.path.join(os.path.dirname(ovms_binary()), "custom_nodes", "libcustom_node_image_crop.so")


def face_config(tmp_path):
    cfg = {
        "model_config_list": [
            {"config": {"name": "face_detection", "base_path": os.path.join(OMZ, "face-detection-retail-0004"),
                        "layout": {"data": "NHWC:NCHW"}}},
            {"config": {"name": "age_gender", "base_path": os.path.join(OMZ, "age-gender-recognition-retail-0013")}},
        ],
        "custom_node_library_config_list": [{"name": "image_crop", "base_path": crop_library()}],
        "pipeline_config_list": [{
            "name": "find_face_age_gender",
            "inputs": ["image"],
            "nodes": [
                {"name": "face_detection_node", "type": "DL model", "model_name": "face_detection",
                 "inputs": [{"data": {"node_name": "request", "data_item": "image"}}],
                 "outputs": [{"data_item": "detection_out", "alias": "detection"}]},
                {"name": "crop_node", "type": "custom", "library_name": "image_crop",
                 "inputs": [{"image": {"node_name": "request", "data_item": "image"}},
                            {"detection": {"node_name": "face_detection_node", "data_item": "detection"}}],
                 "outputs": [{"data_item": "images", "alias": "face_images"},
                             {"data_item": "coordinates", "alias": "face_coordinates"},
                             {"data_item": "confidences", "alias": "confidence_levels"}],
                 "params": {"target_image_width": "62", "target_image_height": "62",
                            "confidence_threshold": "0.7", "max_output_batch": "100",
                            "original_image_layout": "NHWC"},
                 "demultiply_count": 0},
                {"name": "age_gender_node", "type": "DL model", "model_name": "age_gender",
                 "inputs": [{"data": {"node_name": "crop_node", "data_item": "face_images"}}],
                 "outputs": [{"data_item": "age_conv3", "alias": "age"}, {"data_item": "prob", "alias": "gender"}]},
            ],
            "outputs": [{"age": {"node_name": "age_gender_node", "data_item": "age"}},
                        {"gender": {"node_name": "age_gender_node", "data_item": "gender"}},
                        {"face_coordinates": {"node_name": "crop_node", "data_item": "face_coordinates"}},
                        {"confidence_levels": {"node_name": "crop_node", "data_item": "confidence_levels"}}],
        }],
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    return str(path)


@pytest.fixture
def face_server(start_server, tmp_path):
    require_fixtures()
    # Waits for the models only: the pipeline itself is checked by the tests (and must not turn a
    # setup error into something the xfail marker would not cover).
    srv = start_server(["--config_path", face_config(tmp_path)], wait_for="face_detection")
    srv.wait_available("age_gender")
    return srv


def infer_jpeg(srv, jpeg):
    header = json.dumps({"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES",
                                     "parameters": {"binary_data_size": len(jpeg) + 4}}]}).encode()
    body = header + struct.pack("<I", len(jpeg)) + jpeg
    return http("POST", srv.rest + "/v2/models/find_face_age_gender/infer", body,
                {"Inference-Header-Content-Length": str(len(header))})


def test_messi_one_face_over_kserve_rest(face_server):
    with open(MESSI, "rb") as f:
        status, _, body = infer_jpeg(face_server, f.read())
    assert status == 200, body
    out = {o["name"]: o for o in json.loads(body)["outputs"]}
    assert out["age"]["shape"] == [1, 1, 1, 1, 1]
    age = out["age"]["data"][0] * 100
    female, male = out["gender"]["data"][:2]
    assert 15 < age < 45
    assert male > female
    assert out["face_coordinates"]["shape"] == [1, 1, 4]


def test_pipeline_status_and_metadata_report_version_1(face_server):
    status, _, body = http("GET", face_server.rest + "/v1/models/find_face_age_gender")
    assert status == 200, body
    versions = json.loads(body)["model_version_status"]
    assert versions == [{"version": "1", "state": "AVAILABLE",
                         "status": {"error_code": "OK", "error_message": "OK"}}]
    status, _, body = http("GET", face_server.rest + "/v2/models/find_face_age_gender")
    assert status == 200, body
    meta = json.loads(body)
    assert meta["versions"] == ["1"]
    assert [i["name"] for i in meta["inputs"]] == ["image"]
    assert [o["name"] for o in meta["outputs"]] == ["age", "gender", "face_coordinates", "confidence_levels"]
