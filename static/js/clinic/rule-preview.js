// Live preview for the rule editor: as the form changes, ask the server for the preview of
// the unsaved rule (the same POST the "Preview" button makes) and show its result in place.
// Without scripts the button still works; nothing is saved here.
const form = document.querySelector('form.rule-form');
const live = document.getElementById('preview-live');
let timer = null;
let latest = 0;

async function refresh() {
  const asked = ++latest;
  const data = new FormData(form);
  data.set('action', 'preview');
  live.setAttribute('aria-busy', 'true');
  try {
    // form.action would name the submit buttons (they are called "action"): read the attribute.
    const response = await fetch(form.getAttribute('action'), {
      method: 'POST', body: data, credentials: 'same-origin' });
    const page = new DOMParser().parseFromString(await response.text(), 'text/html');
    if (asked !== latest) return; // a newer change is already on its way
    const fresh = page.getElementById('preview-live');
    const problems = page.querySelector('.error[role="alert"]');
    live.replaceChildren(...(fresh && fresh.children.length ? fresh.children
      : problems ? [problems] : []));
  } catch {
    // Offline or the server is away: the button remains the way to preview.
  } finally {
    if (asked === latest) live.removeAttribute('aria-busy');
  }
}

if (form && live) {
  const later = () => { clearTimeout(timer); timer = setTimeout(refresh, 500); };
  form.addEventListener('input', later);
  form.addEventListener('change', later);
}
