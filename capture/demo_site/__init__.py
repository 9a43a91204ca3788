"""A small bundled shop (search, product pages, a cart, checkout behind a login) served on
127.0.0.1, so `capture demo`, scripts/demo.py and the task-runner tests have a real site to
drive without any network."""

from capture.demo_site._pages import PRODUCTS, Product
from capture.demo_site._server import DEMO_PASSWORD, DEMO_USER, DemoSite, serve_demo_site

__all__ = ["DEMO_PASSWORD", "DEMO_USER", "PRODUCTS", "DemoSite", "Product", "serve_demo_site"]
