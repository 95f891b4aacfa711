// The consult page re-reads its recommendation part every few seconds, so the spoke sees the
// consultant sign (and each amendment) without reloading. A file of the service itself: the
// Content-Security-Policy allows no inline script and no other origin.
(() => {
  const part = document.getElementById("advice");
  if (!part || !part.dataset.src) return;
  let shown = part.innerHTML;
  const reread = async () => {
    try {
      const answer = await fetch(part.dataset.src, { credentials: "same-origin" });
      if (!answer.ok) return;
      const html = await answer.text();
      if (html !== shown) {
        part.innerHTML = html;
        shown = html;
        part.dataset.updated = String(Date.now());
      }
    } catch {
      // Offline for a moment: the next round tries again.
    }
  };
  setInterval(reread, 3000);
})();
