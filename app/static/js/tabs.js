// The page's views as an ARIA tab list: click or arrow keys switch, the choice goes in the URL.

/** Wire the tabs; `onShow(name)` runs when a view is shown ("playground", "compare", ...). */
export function createTabs({ config, onChange, onShow }) {
  const tabs = [...document.querySelectorAll("#tabs [role=tab]")];
  const nameOf = (tab) => tab.id.replace(/^tab-/, "");

  function select(name, { focus = false } = {}) {
    for (const tab of tabs) {
      const selected = nameOf(tab) === name;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !selected;
      if (selected && focus) tab.focus();
    }
    config.tab = name;
    onChange();
    onShow(name);
  }

  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(nameOf(tab)));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (event.key === "Home" || event.key === "End") {
        event.preventDefault();
        select(nameOf(tabs[event.key === "Home" ? 0 : tabs.length - 1]), { focus: true });
      } else if (step) {
        event.preventDefault();
        select(nameOf(tabs[(i + step + tabs.length) % tabs.length]), { focus: true });
      }
    });
  });
  return { select };
}
