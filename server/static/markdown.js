/*
 * markdown.js - the small Markdown renderer of the botbasic web chat.
 *
 * SAFE BY CONSTRUCTION
 *   render() first HTML-escapes the WHOLE input (& < > " ' become entities), and only then
 *   looks for Markdown. Every tag in the output is written by this file; none comes from the
 *   input. Attribute values (href, class) are built from escaped text, so they can hold no
 *   quote or angle bracket, and a link is emitted only for an allowed scheme (http, https,
 *   mailto), so "javascript:" and "data:" URLs stay plain text. Inline constructs are
 *   replaced by atomic placeholders holding balanced HTML, so the output is always
 *   well-nested. NUL characters in the input are replaced by U+FFFD because NUL marks the
 *   placeholders.
 *
 * THE SUBSET (anything else is shown as the text it is)
 *   Blocks, separated by blank lines:
 *     ```lang ... ```   fenced code block (also ~~~); no formatting inside; an unclosed
 *                       fence runs to the end of the message
 *     # / ## / ###      headings, rendered as <h3> / <h4> / <h5> so that messages sit
 *                       below the headings of the page itself
 *     - item, * item, + item          bullet list   (<ul>)
 *     1. item, 1) item                numbered list (<ol>, with start= when not 1)
 *                       an indented line right after an item continues that item
 *     other lines       paragraph; a single newline inside it is a line break (<br>)
 *   Inline:
 *     `code`            code span; no formatting inside
 *     [text](url)       link, only for http://, https:// and mailto: URLs
 *     http(s)://...     plain URLs become links (trailing punctuation is left out)
 *     ***x***           bold italic
 *     **x**             bold
 *     *x*  _x_          italic (_x_ only at word boundaries, so snake_case stays as is)
 *   Every link gets target="_blank" rel="noopener noreferrer".
 *
 * API: BotMarkdown.render(text) -> HTML string; BotMarkdown.escapeHtml(text) -> string.
 * Works as a plain <script> (window.BotMarkdown) and as a CommonJS module.
 */
(function (root) {
  "use strict";

  var ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (ch) { return ESCAPES[ch]; });
  }

  var FENCE = /^ {0,3}(`{3,}|~{3,})\s*([A-Za-z0-9_+.#-]*)\s*$/;
  var HEADING = /^ {0,3}(#{1,3})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
  var BULLET = /^ {0,3}[-*+][ \t]+(.*)$/;
  var NUMBERED = /^ {0,3}(\d{1,9})[.)][ \t]+(.*)$/;
  var BLANK = /^[ \t]*$/;
  var CONTINUATION = /^[ \t]+\S/;

  var SAFE_URL = /^(?:https?:\/\/[^\s\u0000]+|mailto:[^\s\u0000]+)$/i;

  function render(markdown) {
    if (markdown === null || markdown === undefined) return "";
    var text = String(markdown).replace(/\u0000/g, "\uFFFD").replace(/\r\n?/g, "\n");
    var lines = escapeHtml(text).split("\n");
    var slots = [];
    var out = [];
    var i = 0;

    function slot(html) {
      slots.push(html);
      return "\u0000" + (slots.length - 1) + "\u0000";
    }

    function inline(s, allowLinks) {
      // 1. code spans: their content is final (already escaped), nothing else touches it
      s = s.replace(/(`+)([^`\n]|[^`\n][\s\S]*?[^`\n])\1(?!`)/g, function (_, ticks, code) {
        return slot("<code>" + code + "</code>");
      });
      if (allowLinks) {
        // 2. [text](url) with an allowed scheme; the text is formatted but not auto-linked
        s = s.replace(/\[([^\]\n]+)\]\(([^()\s\u0000]+)\)/g, function (whole, label, url) {
          if (!SAFE_URL.test(url)) return whole;
          return slot(anchor(url, inline(label, false)));
        });
        // 3. plain URLs
        s = s.replace(/\bhttps?:\/\/[^\s\u0000]+/gi, function (found) {
          var url = trimUrl(found);
          if (!/^https?:\/\/[^\/?#]/i.test(url)) return found;
          return slot(anchor(url, url)) + found.slice(url.length);
        });
      }
      // 4. emphasis; the content is rendered first, so tags always nest properly
      // (the content never spans another "**": this keeps the scan linear)
      s = s.replace(/\*\*\*(?=[^\s*])((?:(?!\*\*)[^\n])*?[^\s*])\*\*\*/g, function (_, inner) {
        return slot("<strong><em>" + inner + "</em></strong>");
      });
      s = s.replace(/\*\*(?=[^\s*])((?:(?!\*\*)[^\n])*?[^\s*])\*\*/g, function (_, inner) {
        return slot("<strong>" + emphasis(inner) + "</strong>");
      });
      s = emphasis(s);
      // 5. a newline inside a paragraph is a line break
      return s.replace(/\n/g, "<br>\n");
    }

    function emphasis(s) {
      s = s.replace(/\*(?=[^\s*])([^*\n]*?[^\s*])\*/g, function (_, inner) {
        return slot("<em>" + inner + "</em>");
      });
      return s.replace(/(^|[^A-Za-z0-9_])_(?=[^\s_])([^_\n]*?[^\s_])_(?![A-Za-z0-9_])/g,
        function (_, before, inner) { return before + slot("<em>" + inner + "</em>"); });
    }

    function anchor(url, label) {
      return '<a href="' + url + '" target="_blank" rel="noopener noreferrer">' + label + "</a>";
    }

    // Leave out trailing punctuation and what follows an escaped quote or angle bracket;
    // a closing parenthesis stays when the URL has a matching opening one.
    function trimUrl(url) {
      var cut = url.search(/&(?:lt|gt|quot|#39);/);
      if (cut >= 0) url = url.slice(0, cut);
      for (;;) {
        if (/&amp;$/.test(url)) {
          url = url.slice(0, -5);
        } else if (/[.,;:!?*_~\]]$/.test(url)) {
          url = url.slice(0, -1);
        } else if (/\)$/.test(url) && count(url, "(") < count(url, ")")) {
          url = url.slice(0, -1);
        } else {
          return url;
        }
      }
    }

    function count(s, ch) { return s.split(ch).length - 1; }

    function list(ordered) {
      var pattern = ordered ? NUMBERED : BULLET;
      var items = [];
      var start = 1;
      while (i < lines.length) {
        var m = pattern.exec(lines[i]);
        if (m) {
          if (!items.length && ordered) start = parseInt(m[1], 10);
          items.push(ordered ? m[2] : m[1]);
          i++;
        } else if (items.length && CONTINUATION.test(lines[i]) &&
                   !BULLET.test(lines[i]) && !NUMBERED.test(lines[i])) {
          items[items.length - 1] += "\n" + lines[i].trim();
          i++;
        } else {
          break;
        }
      }
      var tag = ordered ? "ol" : "ul";
      var open = ordered && start !== 1 ? "<ol start=\"" + start + "\">" : "<" + tag + ">";
      return open + items.map(function (item) {
        return "<li>" + inline(item, true) + "</li>";
      }).join("") + "</" + tag + ">";
    }

    while (i < lines.length) {
      var line = lines[i];
      var m;
      if (BLANK.test(line)) {
        i++;
      } else if ((m = FENCE.exec(line))) {
        var fence = m[1];
        var lang = m[2];
        var code = [];
        i++;
        while (i < lines.length) {
          var close = FENCE.exec(lines[i]);
          if (close && close[1].charAt(0) === fence.charAt(0) && close[1].length >= fence.length &&
              !close[2]) {
            i++;
            break;
          }
          code.push(lines[i]);
          i++;
        }
        var cls = lang ? ' class="language-' + lang + '"' : "";
        out.push("<pre><code" + cls + ">" + code.join("\n") + "</code></pre>");
      } else if ((m = HEADING.exec(line))) {
        var level = m[1].length + 2;
        out.push("<h" + level + ">" + inline(m[2], true) + "</h" + level + ">");
        i++;
      } else if (BULLET.test(line)) {
        out.push(list(false));
      } else if (NUMBERED.test(line)) {
        out.push(list(true));
      } else {
        var para = [];
        while (i < lines.length && !BLANK.test(lines[i]) && !FENCE.test(lines[i]) &&
               !HEADING.test(lines[i]) && !BULLET.test(lines[i]) && !NUMBERED.test(lines[i])) {
          para.push(lines[i]);
          i++;
        }
        out.push("<p>" + inline(para.join("\n"), true) + "</p>");
      }
    }

    function expand(s) {
      return s.replace(/\u0000(\d+)\u0000/g, function (_, n) { return expand(slots[+n]); });
    }
    return expand(out.join("\n"));
  }

  var api = { render: render, escapeHtml: escapeHtml };
  if (typeof module === "object" && module.exports) module.exports = api;
  root.BotMarkdown = api;
})(typeof window !== "undefined" ? window : this);
