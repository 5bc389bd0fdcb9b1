"""The web page at / in a real headless Chromium: choose an image, read the top class shown."""

import time

import pytest
from serving import Server
from webdriver import Browser, missing

from deepres.cli import main


@pytest.fixture(scope="module")
def browser():
    reason = missing()
    if reason:
        pytest.skip(reason)
    browser = Browser()
    yield browser
    browser.close()


def test_page_shows_the_top_class_of_a_chosen_image(
    browser, color_run, color_folder, capsys, tmp_path
):
    image = color_folder / "test" / "blue" / "2.png"
    capsys.readouterr()
    assert main(["predict", str(color_run), str(image), "--json", "--engine", "torch"]) == 0
    expected = capsys.readouterr().out.split('"class": "')[1].split('"')[0]
    server = Server(color_run, "--engine", "torch")
    try:
        page = server.request("GET", "/")[2]
        assert "<script" in page and "src=" not in page and "http" not in page.split("<body>")[1]
        browser.open(f"http://127.0.0.1:{server.port}/")
        assert browser.wait_for_text("#model").startswith("resnet20")
        browser.send_keys(browser.find("#file"), str(image))
        assert _results(browser, 1) == [{"top": expected, "rows": 4, "error": "", "images": 1}]
        assert expected == "blue"
        browser.screenshot(tmp_path / "page.png")
    finally:
        assert server.stop() == 0


def _results(browser, count, timeout=30):
    """Each result block once ``count`` of them have their answer: its top class, number of
    bars, error text and number of images shown."""
    code = """return [...document.querySelectorAll('.result')].map((b) => ({
        top: (b.querySelector('.top-class') || {}).textContent || '',
        rows: b.querySelectorAll('.row').length,
        error: (b.querySelector('.error') || {}).textContent || '',
        images: [...b.querySelectorAll('img')].filter((i) => i.complete).length}))"""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        blocks = browser.script(code)
        if len(blocks) == count and all(b["top"] or b["error"] for b in blocks):
            return blocks
        time.sleep(0.1)
    raise AssertionError(f"{count} answers did not appear within {timeout} s: {blocks}")


def test_page_names_the_classes_takes_several_files_and_words_a_bad_one(
    browser, color_run, color_folder, tmp_path
):
    """Issue 29, item 10: the classes are named; several files at once; a file that is not
    an image gets a readable reason and no broken-image icon."""
    text = tmp_path / "notes.jpg"
    text.write_text("hello, this is not a picture")
    images = [
        color_folder / "test" / "red" / "0.png",
        text,
        color_folder / "test" / "green" / "1.png",
    ]
    server = Server(color_run, "--engine", "torch")
    try:
        browser.open(f"http://127.0.0.1:{server.port}/")
        assert browser.wait_for_text("#classes") == "Classes: blue, gray, green, red"
        browser.send_keys(browser.find("#file"), "\n".join(map(str, images)))
        first, bad, last = _results(browser, 3)
        assert (first["top"], last["top"]) == ("red", "green")
        assert first["images"] == last["images"] == 1
        assert bad["images"] == 0 and bad["top"] == ""
        assert (
            "notes.jpg" in bad["error"] and 'its text begins "hello, this is not a"' in bad["error"]
        )
        assert "b'" not in bad["error"]
    finally:
        assert server.stop() == 0
