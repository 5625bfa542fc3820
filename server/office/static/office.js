// Upload progress for the marks import. The form works without this script:
// it posts, the server imports and redirects to the report. With it, the
// same request goes through XMLHttpRequest so the page can show progress.
'use strict';

function showProgress(form) {
  const box = document.getElementById('upload-progress');
  const bar = document.getElementById('upload-bar');
  const label = document.getElementById('upload-label');
  const status = document.getElementById('upload-status');
  const button = form.querySelector('button[type="submit"]');
  const xhr = new XMLHttpRequest();
  button.disabled = true;
  box.hidden = false;
  bar.value = 0;
  xhr.open('POST', form.action);
  xhr.upload.addEventListener('progress', (event) => {
    if (!event.lengthComputable) return;
    const pct = Math.round((event.loaded / event.total) * 100);
    bar.value = pct;
    status.textContent = `Uploaded ${pct}%`;
  });
  xhr.upload.addEventListener('load', () => {
    bar.removeAttribute('value'); // indeterminate while the server works
    label.textContent = 'Checking and storing the marks…';
    status.textContent = 'The file is uploaded; the server is checking every row.';
  });
  xhr.addEventListener('load', () => {
    if (xhr.status < 400 && xhr.responseURL) {
      status.textContent = 'Done. Opening the report…';
      window.location.assign(xhr.responseURL);
      return;
    }
    const doc = new DOMParser().parseFromString(xhr.responseText, 'text/html');
    const main = doc.querySelector('main');
    if (main) {
      document.querySelector('main').replaceWith(document.adoptNode(main));
    } else {
      button.disabled = false;
      status.textContent = `The import failed (${xhr.status}).`;
    }
  });
  xhr.addEventListener('error', () => {
    button.disabled = false;
    label.textContent = 'Upload failed';
    status.textContent = 'The upload failed: check the connection and try again.';
  });
  xhr.send(new FormData(form));
}

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches('form[data-upload]')) return;
  if (!window.XMLHttpRequest || !window.FormData || !form.checkValidity()) return;
  event.preventDefault();
  showProgress(form);
});
