"""The blog's published numbers, their mapping to our networks and the reports' formatter
(tf1_birnn.tools.blog)."""
from tf1_birnn.tools.blog import blog_figure, blog_match, blog_results, fmt


def test_blog_mapping_and_formatter():
    blog = blog_results()
    assert blog_match("lv1").key == "lv1_lstm" and blog_match("lv1").point is None
    for arch in ("birnn", "ff"):
        assert blog_match(arch).key == "lv2_bigru"
    assert blog_match("birnn", n_layers=2).point == blog["text_claims"]["two_layer_bigru"]
    last = blog["lv1_lstm"]["curve"][-1]
    assert blog_figure("lv1").startswith(f"10 epochs: {last['train']:.3f} / {last['test']:.3f}")
    assert "(text)" in blog_figure("birnn", 2) and "does not say" in blog_figure("birnn", 2, "tutorial")
    assert [fmt(None), fmt(float("nan")), fmt(0.12345), fmt(2.5, 0)] == ["", "", "0.123", "2"]
