"""The read-only result partial (templates/review/result.html) for each kind of task
type: boxes over the image in its own pixels, a rating with its error types, a score,
and a client's own type as a list of its fields."""

from types import SimpleNamespace

from flask import render_template


def rendered(app, task_type: str, result: dict, payload: dict | None = None) -> str:
    item = SimpleNamespace(payload=payload, ref="s3://set/1.jpg")
    submission = SimpleNamespace(id=7, result=result, task=SimpleNamespace(item=item))
    with app.test_request_context(headers={"Accept-Language": "en"}):
        return render_template("review/result.html", submission=submission, task_type=task_type)


def test_boxes_are_drawn_in_the_images_own_pixels(app):
    boxes = {
        "boxes": [
            {"x": 10, "y": 20, "w": 30, "h": 40, "label": "car"},
            {"x": 5, "y": 6, "w": 7, "h": 8},
        ]
    }
    html = rendered(app, "bbox_2d", boxes, {"width": 640, "height": 480, "url": "/demo/1.png"})
    assert 'viewBox="0 0 640 480"' in html
    assert '<image href="/demo/1.png"' in html
    assert 'data-box="1" x="10" y="20" width="30" height="40"' in html
    assert 'data-box="2" x="5" y="6" width="7" height="8"' in html
    assert "2 boxes on an image of 640 × 480 pixels" in html
    # An image from another site is never loaded (the CSP would refuse it anyway).
    assert "<image" not in rendered(
        app, "bbox_2d", boxes, {"width": 640, "height": 480, "url": "//evil.example/x.png"}
    )


def test_a_rating_shows_its_value_and_error_types(app):
    html = rendered(
        app,
        "rating_1_5",
        {"rating": 2, "error_types": ["factual", "tone"], "comment": "wrong year"},
    )
    assert '<dd class="value">2</dd>' in html
    assert "<dd>factual, tone</dd>" in html and "wrong year" in html
    assert '<dd class="value">1</dd>' in rendered(app, "audio_score_0_2", {"score": 1})


def test_a_clients_own_type_shows_its_fields(app):
    html = rendered(app, "acme_sentiment", {"label": "positive", "spans": [[0, 4]]})
    assert "<dt>label</dt><dd>positive</dd>" in html
    assert "<dt>spans</dt><dd><code>[[0, 4]]</code></dd>" in html
