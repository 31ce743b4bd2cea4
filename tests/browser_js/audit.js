// Evaluated by tests/test_browser_pages.py on each page: axe-core's WCAG 2.1 A/AA rules (colour
// contrast among them) and the 44 px touch targets, which axe checks only at 24 px. A
// checkbox or radio counts by the label that wraps it (the label is what a finger hits).
async (minPx) => {
  const run = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
  const axeProblems = run.violations.map((v) => ({
    id: v.id, nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")}: ${n.failureSummary}`) }));
  const small = [...document.querySelectorAll("a, button, input, select, summary, [role=button]")]
    .filter((el) => el.offsetParent !== null && el.type !== "hidden")
    .map((el) => {
      const box = (el.closest("label") || el).getBoundingClientRect();
      return [el.id || el.textContent.trim().slice(0, 20) || el.tagName, Math.round(box.width), Math.round(box.height)];
    })
    .filter(([, w, h]) => w < minPx || h < minPx);
  return { axe: axeProblems, small };
}
