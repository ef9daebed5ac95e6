// The browser side of the upload queue: picks files and sends their bytes in chunks to the
// uploads the server began for them (/api/v1/uploads), resumes, retries and stops. What to send
// and when, the collision choices and the outcomes are the server's (UploadState and the upload
// rows); the browser reports what it did through `report`, never a value the server knows.
(() => {
  if (window.imgstreamUploads) return;

  // The upload statuses, as the server names them (injected before this script).
  const STATUS = window.imgstreamUploadStatus;
  const files = new Map(); // picked key, then upload id -> {file, endpoint, preview, xhr, cancelled}
  const queue = [];
  const cancelled = new Set();
  let active = 0;
  let report = null;
  let settings = { concurrency: 3, chunkBytes: 8 * 1024 * 1024, retries: 3, backoffMs: 1000 };
  const PROGRESS_EVERY_MS = 1500;

  // Progress and outcomes go to the server in batches: one state update, one render and one
  // answer a few times a second, however many files are on their way.
  const BATCH_EVERY_MS = 800;
  const unsent = []; // what happened before the page's state connected (files picked early)
  let batch = [];
  let batchTimer = null;
  const deliver = (event) => {
    if (report) report(event);
    else unsent.push(event);
  };
  const flush = () => {
    batchTimer = null;
    const events = batch;
    batch = [];
    if (events.length) deliver({ kind: "batch", events });
  };
  const send = (event) => {
    if (event.kind === "selected" || event.kind === "holding") {
      flush();
      deliver(event);
      return;
    }
    // A newer progress report of the same file replaces the older one still waiting.
    if (event.kind === "status" && event.status === STATUS.uploading) {
      batch = batch.filter(
        (e) => !(e.kind === "status" && e.status === STATUS.uploading && e.id === event.id));
    }
    batch.push(event);
    if (!batchTimer) batchTimer = setTimeout(flush, BATCH_EVERY_MS);
  };
  const status = (id, value, extra) => send({ kind: "status", id, status: value, ...extra });

  const drop = (id) => {
    const item = files.get(id);
    if (item && item.preview) URL.revokeObjectURL(item.preview);
    files.delete(id);
  };

  const newId = () =>
    Date.now().toString(36) + Math.random().toString(36).slice(2, 10);

  const defaultEndpoint = () => {
    const zone = document.querySelector("[data-upload-endpoint]");
    return zone ? zone.getAttribute("data-upload-endpoint") : "/api/v1/uploads";
  };

  const endpointOf = (element) => {
    const zone = element.closest("[data-upload-endpoint]");
    return zone ? zone.getAttribute("data-upload-endpoint") : defaultEndpoint();
  };

  const select = (fileList, endpoint) => {
    const picked = [];
    for (const file of fileList) {
      const id = newId();
      const browserShows = /^image\/(jpeg|png|webp|gif|avif)$/.test(file.type);
      const preview = browserShows ? URL.createObjectURL(file) : "";
      files.set(id, { file, endpoint, preview });
      picked.push({ id, name: file.name, size: file.size, modified: file.lastModified, preview });
    }
    if (picked.length) send({ kind: "selected", files: picked });
  };

  const request = (method, url, body, onProgress, item) =>
    new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.withCredentials = true;
      if (body !== undefined && !(body instanceof Blob)) {
        xhr.setRequestHeader("Content-Type", "application/json");
        body = JSON.stringify(body);
      } else if (body instanceof Blob) {
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
      }
      if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded);
      xhr.onload = () => {
        let data = {};
        try {
          data = xhr.responseText ? JSON.parse(xhr.responseText) : {};
        } catch (e) {
          data = { error: xhr.responseText };
        }
        resolve({ status: xhr.status, data });
      };
      xhr.onerror = () => reject(new Error("the connection was lost"));
      xhr.ontimeout = () => reject(new Error("the server took too long"));
      xhr.onabort = () => reject(new Error("stopped"));
      if (item) item.xhr = xhr;
      xhr.send(body);
    });

  class Refused extends Error {}

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // Runs one step with automatic retries: network errors, 408 (the body arrived too slowly)
  // and 5xx answers are retried with backoff; other 4xx answers are final.
  const withRetries = async (id, item, step) => {
    for (let attempt = 0; ; attempt++) {
      if (item.cancelled) throw new Error("stopped");
      try {
        const answer = await step();
        if (answer.status >= 500 || answer.status === 0 || answer.status === 408) {
          throw new Error(answer.data.error || `the server answered ${answer.status}`);
        }
        return answer;
      } catch (error) {
        if (item.cancelled || error instanceof Refused) throw error;
        if (attempt >= settings.retries) throw error;
        send({ kind: "retrying", id, attempt: attempt + 1, reason: error.message });
        await sleep(settings.backoffMs * 2 ** attempt);
      }
    }
  };

  const gone = () => new Refused("the upload is no longer on the server");

  // Where the server's upload continues: resuming starts there, not at the first byte.
  const receivedSoFar = async (id, item) => {
    const answer = await withRetries(id, item, () => request("GET", `${item.endpoint}/${id}`));
    if (answer.status === 404) throw gone();
    if (answer.status !== 200) throw new Refused(answer.data.error || `refused (${answer.status})`);
    return answer.data.received;
  };

  const upload = async (id) => {
    const item = files.get(id);
    if (!item || item.cancelled) return;
    const size = item.file.size;
    let received = await receivedSoFar(id, item);
    let lastReport = 0;
    status(id, STATUS.uploading, { sent: received });
    while (received < size) {
      const end = Math.min(size, received + settings.chunkBytes);
      const chunk = item.file.slice(received, end);
      const offset = received;
      const answer = await withRetries(id, item, () =>
        request(
          "PUT",
          `${item.endpoint}/${id}/chunks?offset=${offset}`,
          chunk,
          (loaded) => {
            const now = Date.now();
            if (now - lastReport > PROGRESS_EVERY_MS) {
              lastReport = now;
              status(id, STATUS.uploading, { sent: offset + loaded });
            }
          },
          item,
        ),
      );
      if (answer.status === 200 || answer.status === 409) {
        // 409: the server has a different offset (an earlier attempt did arrive); go on from it.
        received = answer.data.received;
        status(id, STATUS.uploading, { sent: received });
      } else if (answer.status === 404) {
        throw gone();
      } else {
        throw new Refused(answer.data.error || `refused (${answer.status})`);
      }
    }
    await complete(id);
  };

  // Completing needs no file: the server holds the bytes and what was decided about them.
  const complete = async (id) => {
    const item = files.get(id) || { endpoint: defaultEndpoint(), detached: true };
    status(id, STATUS.processing);
    const answer = await withRetries(id, item, () =>
      request("POST", `${item.endpoint}/${id}/complete`, {}),
    );
    if (answer.status === 409 && !item.detached &&
        (item.rewinds = (item.rewinds || 0) + 1) <= settings.retries) {
      // Some bytes went missing on the server: send them again from where it says.
      await upload(id);
      return;
    }
    if (answer.status === 404) throw gone();
    if (answer.status !== 200) {
      throw new Refused(answer.data.error || `refused (${answer.status})`);
    }
    if (answer.data.status !== STATUS.needs_decision) drop(id);
    send({ kind: "finished", id });
  };

  const run = async (id, step) => {
    active++;
    try {
      await step(id);
    } catch (error) {
      if (cancelled.has(id)) {
        // the page knows
      } else if (error instanceof Refused) {
        drop(id);
        status(id, STATUS.rejected, { reason: error.message });
      } else {
        status(id, STATUS.failed, { reason: error.message });
      }
    } finally {
      active--;
      pump();
    }
  };

  const pump = () => {
    while (active < settings.concurrency && queue.length) {
      const [id, step] = queue.shift();
      run(id, step);
    }
  };

  window.imgstreamUploads = {
    connect(reporter) {
      report = reporter;
      // After a reload the page holds no files: the server's unfinished uploads wait for them.
      send({ kind: "holding", ids: [...files.keys()] });
      for (const event of unsent.splice(0)) report(event);
    },
    // The server began uploads for picked files: from now on a file is known by its upload id.
    assign(pairs) {
      for (const [key, uploadId] of pairs) {
        const item = files.get(key);
        if (!item) continue;
        files.delete(key);
        files.set(uploadId, item);
      }
    },
    // ids: uploads to send; options: {concurrency, chunkBytes, retries, backoffMs}
    start(ids, options) {
      settings = { ...settings, ...(options || {}) };
      for (const id of ids) {
        if (files.has(id)) queue.push([id, upload]);
      }
      pump();
    },
    // Uploads whose bytes all arrived and whose name was decided on: finish them.
    complete(ids) {
      for (const id of ids) queue.push([id, complete]);
      pump();
    },
    retry(id) {
      if (!files.has(id)) {
        status(id, STATUS.failed, { reason: "pick the file again to continue where it stopped" });
        return;
      }
      queue.push([id, upload]);
      pump();
    },
    // Stop sending; the server forgets the upload on the page's word.
    cancel(ids) {
      for (const id of ids) {
        const item = files.get(id);
        const waiting = queue.findIndex(([queued]) => queued === id);
        if (waiting >= 0) queue.splice(waiting, 1);
        if (!item) continue;
        cancelled.add(id);
        item.cancelled = true;
        if (item.xhr) item.xhr.abort();
        drop(id);
      }
    },
    forget(ids) {
      for (const id of ids) drop(id);
    },
    pick() {
      const input = document.querySelector("[data-photo-input]");
      if (input) input.click();
    },
  };

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches("[data-photo-input]")) return;
    select(input.files, endpointOf(input));
    input.value = "";
  });

  // Leaving or reloading the page while files are on their way asks first.
  window.addEventListener("beforeunload", (event) => {
    if (active > 0 || queue.length > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Files dropped anywhere on a page marked data-drop-anywhere (the library) are uploaded too.
  const carriesFiles = (event) =>
    !!event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");
  const zoneOf = (event) => {
    const own = event.target instanceof Element ? event.target.closest("[data-drop-zone]") : null;
    if (own) return own;
    return carriesFiles(event) ? document.querySelector("[data-drop-anywhere]") : null;
  };
  for (const type of ["dragenter", "dragover"]) {
    document.addEventListener(type, (event) => {
      const zone = zoneOf(event);
      if (!zone) return;
      event.preventDefault();
      zone.setAttribute("data-dragging", "true");
    });
  }
  document.addEventListener("dragleave", (event) => {
    const zone = zoneOf(event);
    if (zone && !zone.contains(event.relatedTarget)) zone.removeAttribute("data-dragging");
  });
  document.addEventListener("drop", (event) => {
    const zone = zoneOf(event);
    if (!zone) return;
    event.preventDefault();
    zone.removeAttribute("data-dragging");
    if (event.dataTransfer && event.dataTransfer.files.length) {
      select(event.dataTransfer.files, endpointOf(zone));
    }
  });
})();
