// Small DOM helpers. Server text only ever goes into the page as text nodes (textContent; never
// parsed as markup), links and pictures only through urls.js.

import { hue, initials } from "./words.js";
import { safeHref, safeImageSrc } from "./urls.js";

export function $(id) {
  return document.getElementById(id);
}

export function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

export function svgIcon(paths) {
  var ns = "http://www.w3.org/2000/svg";
  var svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  paths.forEach(function (d) {
    var p = document.createElementNS(ns, "path");
    p.setAttribute("d", d);
    svg.appendChild(p);
  });
  return svg;
}

export function show(node, visible) {
  node.hidden = !visible;
}

export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/// A picture, the initials of a name, or (`name` null: an anonymous visitor) a person icon.
export function setAvatar(node, name, id, url) {
  node.textContent = "";
  node.className = node.className.replace(/\bhue-\d\b/g, "").trim() + " " + hue(id || name || "");
  var src = url && safeImageSrc(url);
  if (src) {
    var img = el("img");
    img.alt = "";
    img.src = src;
    node.appendChild(img);
  } else if (name) {
    node.textContent = initials(name);
  } else {
    node.appendChild(svgIcon(["M16 8a4 4 0 1 1-8 0 4 4 0 0 1 8 0", "M4 21a8 8 0 0 1 16 0"]));
  }
}

export function link(text, url, cls) {
  var href = safeHref(url);
  if (!href) return el("span", cls, text);
  var a = el("a", cls, text);
  a.href = href;
  if (/^https?:/i.test(href)) {
    a.target = "_blank";
    a.rel = "noopener noreferrer";
  }
  return a;
}

export function announce(text) {
  var a = $("announcer");
  a.textContent = "";
  setTimeout(function () {
    a.textContent = text;
  }, 50);
}
