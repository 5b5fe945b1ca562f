// Safe links and pictures: which URLs from the server or a visitor may become a link or an
// image. Pure (nothing imported, no DOM); Node's test runner loads it.

export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];

/// `url` resolved against the page (`base`, for tests) when it is `http(s)`, `mailto` or `tel`,
/// else null.
export function safeHref(url, base) {
  if (typeof url !== "string" || /[\s\u0000-\u001f]/.test(url)) return null;
  try {
    var u = new URL(url, base !== undefined ? base : globalThis.location && globalThis.location.href);
    return ["http:", "https:", "mailto:", "tel:"].indexOf(u.protocol) >= 0 ? u.href : null;
  } catch (e) {
    return null;
  }
}

/// A picture's `src`: an `http(s)` URL, or base64 `data` of one of the IMAGE_TYPES; else null.
export function safeImageSrc(url, data, mime, base) {
  if (url) {
    var href = safeHref(url, base);
    return href && /^https?:/i.test(href) ? href : null;
  }
  if (data && IMAGE_TYPES.indexOf(mime) >= 0 && /^[A-Za-z0-9+/=]+$/.test(data)) {
    return "data:" + mime + ";base64," + data;
  }
  return null;
}
