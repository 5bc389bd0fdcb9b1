"""The web page at / in a real headless Chromium: choose an image, read the top class shown."""

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
        assert browser.wait_for_text("#top-class") == expected == "blue"
        assert len(browser.script("return document.querySelectorAll('#rows .row')")) == 4
        assert browser.text("#error") == ""
        browser.screenshot(tmp_path / "page.png")
    finally:
        assert server.stop() == 0
