// Copy buttons of the subscribe page: the link goes to the clipboard (or stays selected for Ctrl+C
// where the browser refuses clipboard access, e.g. over plain http).
const status = document.getElementById("copy-status");

for (const button of document.querySelectorAll("button[data-copy]")) {
  button.addEventListener("click", async () => {
    const input = document.getElementById(button.dataset.copy);
    input.focus();
    input.select();
    let copied = false;
    try {
      await navigator.clipboard.writeText(input.value);
      copied = true;
    } catch {
      copied = document.execCommand && document.execCommand("copy");
    }
    if (status) {
      status.textContent = copied ? status.dataset.copied : status.dataset.select;
    }
  });
}
