from imgstream.state.upload import UploadRow, summary_line


def test_summary_lines_say_what_the_group_heading_does_not():
    assert summary_line(UploadRow("k", "a.jpg", "", "added", "added")) == "a.jpg"
    assert summary_line(UploadRow("k", "a.jpg", "", "replaced", "replaced a.jpg")) == "a.jpg"
    assert summary_line(UploadRow("k", "a.jpg", "", "kept_both", "kept both: added as a (1).jpg",
                                  stored_as="a (1).jpg")) == "a.jpg → a (1).jpg"
    assert summary_line(UploadRow("k", "n.jpg", "", "rejected",
                                  "rejected: not a supported image")) == (
        "n.jpg: not a supported image")
    assert summary_line(UploadRow("k", "b.jpg", "", "skipped",
                                  "skipped: B.JPG is already in your library")) == (
        "b.jpg: B.JPG is already in your library")
    assert summary_line(UploadRow("k", "c.jpg", "", "duplicate",
                                  "already in your trash as d.jpg")) == (
        "c.jpg: already in your trash as d.jpg")
    assert summary_line(UploadRow("k", "e.jpg", "", "failed",
                                  "upload stopped: the connection was lost")) == (
        "e.jpg: the connection was lost")
