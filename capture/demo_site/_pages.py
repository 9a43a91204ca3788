"""The demo shop's pages: plain functions from shop state to HTML.

Kept apart from the HTTP plumbing so each page reads as markup. Every interpolated value goes
through `escape` (a search for `<script>` must show as text, not run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote

__all__ = [
    "PRODUCTS",
    "Product",
    "Visitor",
    "cart_page",
    "checkout_page",
    "home_page",
    "login_page",
    "not_found_page",
    "order_page",
    "product_page",
    "search_page",
    "size_guide_page",
]


@dataclass(frozen=True)
class Product:
    slug: str
    name: str
    price_cents: int
    category: str
    blurb: str

    @property
    def price(self) -> str:
        return f"${self.price_cents / 100:.2f}"


PRODUCTS: dict[str, Product] = {
    p.slug: p
    for p in (
        Product("blue-mug", "Blue Mug", 1200, "Mugs", "A sturdy 350 ml stoneware mug, deep blue."),
        Product("red-mug", "Red Mug", 1200, "Mugs", "The blue mug's cheerful sibling."),
        Product("travel-mug", "Travel Mug", 2400, "Mugs", "Keeps coffee hot for six hours."),
        Product("tea-kettle", "Tea Kettle", 4500, "Brewing", "1.7 l, whistles when ready."),
        Product("french-press", "French Press", 3200, "Brewing", "Eight cups, steel filter."),
        Product("coffee-beans", "Coffee Beans 1kg", 2800, "Coffee", "Medium roast, whole bean."),
        Product("espresso-cups", "Espresso Cups", 1900, "Mugs", "A set of four 80 ml cups."),
        Product("milk-frother", "Milk Frother", 3900, "Brewing", "Hot or cold foam in a minute."),
    )
}


@dataclass
class Visitor:
    """One browser's state, keyed by its cookie: who is signed in and what is in the cart."""

    user: str | None = None
    cart: dict[tuple[str, str], int] = field(default_factory=dict)  # (slug, size) -> quantity

    @property
    def cart_count(self) -> int:
        return sum(self.cart.values())

    @property
    def total_cents(self) -> int:
        return sum(PRODUCTS[slug].price_cents * n for (slug, _), n in self.cart.items())


def _layout(title: str, visitor: Visitor, body: str) -> str:
    categories = sorted({p.category for p in PRODUCTS.values()})
    menu = "".join(f'<a href="/search?q={quote(c)}">{escape(c)}</a>' for c in categories)
    account = (
        f'<span data-testid="user">Signed in as {escape(visitor.user)}</span>'
        '<a href="/logout">Sign out</a>'
        if visitor.user
        else '<a href="/login">Sign in</a>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(title)} · Demo Shop</title>
<link rel="stylesheet" href="/static/shop.css"></head>
<body>
<header>
  <a class="brand" href="/">Demo Shop</a>
  <div class="menu"><a href="#" aria-haspopup="true">Categories</a>
    <div class="items" role="menu">{menu}</div></div>
  <nav>{account}
    <a href="/cart">Cart (<span data-testid="cart-count">{visitor.cart_count}</span>)</a>
  </nav>
</header>
<main>
{body}
</main>
</body></html>
"""


def _search_form(query: str = "") -> str:
    names = ",".join(f'"{escape(p.name)}"' for p in PRODUCTS.values())
    return f"""<form class="search" action="/search" role="search">
  <label for="q">Search</label>
  <input id="q" name="q" type="search" placeholder="mugs, kettles, beans…" value="{escape(query)}"
         autocomplete="off">
  <button type="submit">Search</button>
</form>
<ul class="suggestions" id="suggestions" aria-label="Suggestions"></ul>
<script>
  // Suggestions as you type: a `type` step (key by key) shows them, `fill` too.
  const names = [{names}];
  const box = document.getElementById("suggestions");
  document.getElementById("q").addEventListener("input", (e) => {{
    const q = e.target.value.trim().toLowerCase();
    const hits = q ? names.filter((n) => n.toLowerCase().includes(q)) : [];
    box.replaceChildren(...hits.map((n) =>
      Object.assign(document.createElement("li"), {{textContent: "Suggestion: " + n}})));
  }});
</script>"""


def _card(product: Product) -> str:
    return f"""<article class="card" data-testid="product-{product.slug}">
  <h3><a href="/product/{product.slug}">{escape(product.name)}</a></h3>
  <p>{escape(product.blurb)}</p><p class="price">{product.price}</p>
</article>"""


def home_page(visitor: Visitor) -> str:
    cards = "".join(_card(p) for p in PRODUCTS.values())
    return _layout(
        "Home",
        visitor,
        f"""<h1>Welcome to the Demo Shop</h1>
{_search_form()}
<h2>Featured</h2>
<section class="grid">{cards}</section>""",
    )


def search_page(visitor: Visitor, query: str) -> str:
    words = query.lower().split()
    hits = [
        p
        for p in PRODUCTS.values()
        if all(w in f"{p.name} {p.category} {p.blurb}".lower() for w in words)
    ]
    count = f"{len(hits)} result{'s' if len(hits) != 1 else ''} for “{escape(query)}”"
    cards = "".join(_card(p) for p in hits) or "<p>Nothing found. Try “mug”.</p>"
    return _layout(
        f"Search: {query}",
        visitor,
        f"""{_search_form(query)}
<h1 data-testid="result-count">{count}</h1>
<section class="grid">{cards}</section>""",
    )


def product_page(visitor: Visitor, product: Product, added: bool = False) -> str:
    notice = (
        f'<p class="notice" role="status">Added {escape(product.name)} to your cart.</p>'
        if added
        else ""
    )
    reviews = "".join(f"<li>★★★★☆ “Review {n}: does what it says.”</li>" for n in range(1, 6))
    return _layout(
        product.name,
        visitor,
        f"""{notice}
<h1>{escape(product.name)}</h1>
<p>{escape(product.blurb)}</p>
<p class="price" data-testid="price">{product.price}</p>
<p><span class="tip" tabindex="0">Shipping info
  <span class="bubble" role="tooltip">Free shipping on orders over $50. Ships in 2 days.</span>
</span></p>
<form method="post" action="/cart/add">
  <input type="hidden" name="slug" value="{product.slug}">
  <label for="size">Size</label>
  <a href="/size-guide" target="_blank" rel="noopener">Size guide (opens a new tab)</a>
  <select id="size" name="size">
    <option value="s">Small</option><option value="m" selected>Medium</option>
    <option value="l">Large</option>
  </select>
  <label for="qty">Quantity</label>
  <input id="qty" name="qty" type="number" min="1" max="9" value="1">
  <p><button type="submit">Add to cart</button></p>
</form>
<section class="reviews" id="reviews"><h2>Reviews</h2><ul>{reviews}</ul></section>""",
    )


def cart_page(visitor: Visitor) -> str:
    if not visitor.cart:
        body = '<h1>Your cart</h1><p data-testid="empty">Your cart is empty.</p>'
        return _layout("Cart", visitor, body)
    rows = "".join(
        f"<tr><td>{escape(PRODUCTS[slug].name)}</td><td>{size.upper()}</td><td>{n}</td>"
        f"<td>${PRODUCTS[slug].price_cents * n / 100:.2f}</td></tr>"
        for (slug, size), n in visitor.cart.items()
    )
    return _layout(
        "Cart",
        visitor,
        f"""<h1>Your cart</h1>
<table><thead><tr><th>Item</th><th>Size</th><th>Qty</th><th>Price</th></tr></thead>
<tbody>{rows}</tbody></table>
<p>Total: <span class="price" data-testid="total">${visitor.total_cents / 100:.2f}</span></p>
<p><a class="button" href="/checkout">Proceed to checkout</a></p>""",
    )


def login_page(visitor: Visitor, next_url: str, error: str = "") -> str:
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return _layout(
        "Sign in",
        visitor,
        f"""<h1>Sign in</h1>
<p>Checkout needs an account. (Demo: user <code>demo</code>; the password is in
<code>capture demo</code>'s output.)</p>
{message}
<form method="post" action="/login">
  <input type="hidden" name="next" value="{escape(next_url)}">
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password">
  <p><button type="submit">Sign in</button></p>
</form>""",
    )


def checkout_page(visitor: Visitor, error: str = "") -> str:
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return _layout(
        "Checkout",
        visitor,
        f"""<h1>Checkout</h1>
<p>{visitor.cart_count} item(s), total
<span class="price" data-testid="total">${visitor.total_cents / 100:.2f}</span></p>
{message}
<form method="post" action="/checkout" enctype="multipart/form-data">
<fieldset><legend>Delivery</legend>
  <label for="fullname">Full name</label><input id="fullname" name="fullname">
  <label for="address">Address</label><input id="address" name="address">
  <label for="shipping">Shipping</label>
  <select id="shipping" name="shipping">
    <option value="standard">Standard (free)</option>
    <option value="express">Express ($9.00)</option>
  </select>
</fieldset>
<fieldset><legend>Payment</legend>
  <label for="card">Card number</label>
  <input id="card" name="card" autocomplete="cc-number" inputmode="numeric">
  <label for="giftcard">Gift card image (optional)</label>
  <input id="giftcard" name="giftcard" type="file" accept="image/*,.txt">
</fieldset>
<p><input id="newsletter" name="newsletter" type="checkbox" checked>
   <label class="inline" for="newsletter">Send me the newsletter</label></p>
<p><input id="terms" name="terms" type="checkbox">
   <label class="inline" for="terms">I accept the terms</label></p>
<p><button type="submit">Place order</button></p>
</form>""",
    )


def order_page(visitor: Visitor, number: int, name: str, shipping: str, extras: str) -> str:
    return _layout(
        f"Order {number}",
        visitor,
        f"""<h1>Thank you, {escape(name)}!</h1>
<p class="notice" role="status">Order #{number} is placed ({escape(shipping)} shipping).</p>
<p>{escape(extras)}</p>
<p><a href="/">Continue shopping</a></p>""",
    )


def size_guide_page(visitor: Visitor) -> str:
    rows = "".join(
        f"<tr><td>{name}</td><td>{ml} ml</td></tr>"
        for name, ml in (("Small", 250), ("Medium", 350), ("Large", 500))
    )
    return _layout(
        "Size guide",
        visitor,
        f"<h1>Size guide</h1><table><tr><th>Size</th><th>Holds</th></tr>{rows}</table>",
    )


def not_found_page(visitor: Visitor) -> str:
    return _layout("Not found", visitor, '<h1>Not found</h1><p><a href="/">Home</a></p>')
