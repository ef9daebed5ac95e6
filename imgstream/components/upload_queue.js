// The browser side of the upload queue: picks files, sends them in chunks to /api/v1/uploads,
// resumes, retries and cancels. What to send and when is decided by UploadState on the server;
// every change is reported back to it through `report`.
(() => {
  if (window.imgstreamUploads) return;

  const files = new Map(); // id -> {file, endpoint, uploadId, choice, seconds, xhr, cancelled}
  const queue = [];
  const cancelled = new Set();
  let active = 0;
  let report = null;
  let settings = { concurrency: 3, chunkBytes: 8 * 1024 * 1024, retries: 3, backoffMs: 1000 };
  const PROGRESS_EVERY_MS = 300;

  const send = (event) => {
    if (report) report(event);
  };

  const drop = (id) => {
    const item = files.get(id);
    if (item && item.preview) URL.revokeObjectURL(item.preview);
    files.delete(id);
  };

  const newId = () =>
    Date.now().toString(36) + Math.random().toString(36).slice(2, 10);

  // The same file picked again (same name, size and date) resumes its unfinished upload.
  const fingerprint = (file) => `imgstream-upload:${file.name}:${file.size}:${file.lastModified}`;

  const endpointOf = (element) => {
    const zone = element.closest("[data-upload-endpoint]");
    return zone ? zone.getAttribute("data-upload-endpoint") : "/api/v1/uploads";
  };

  const select = (fileList, endpoint) => {
    const picked = [];
    for (const file of fileList) {
      const id = newId();
      const browserShows = /^image\/(jpeg|png|webp|gif|avif)$/.test(file.type);
      const preview = browserShows ? URL.createObjectURL(file) : "";
      files.set(id, { file, endpoint, preview, uploadId: null, choice: "ask", seconds: null });
      picked.push({ id, name: file.name, size: file.size, preview });
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
      xhr.onabort = () => reject(new Error("cancelled"));
      if (item) item.xhr = xhr;
      xhr.send(body);
    });

  class Refused extends Error {}

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // Runs one step with automatic retries: network errors and 5xx answers are retried with
  // backoff; 4xx answers are final.
  const withRetries = async (id, item, step) => {
    for (let attempt = 0; ; attempt++) {
      if (item.cancelled) throw new Error("cancelled");
      try {
        const answer = await step();
        if (answer.status >= 500 || answer.status === 0) {
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

  const begin = async (id, item) => {
    const key = fingerprint(item.file);
    const known = item.uploadId || localStorage.getItem(key);
    if (known) {
      const answer = await request("GET", `${item.endpoint}/${known}`);
      if (answer.status === 200) {
        item.uploadId = known;
        return answer.data.received;
      }
      if (answer.status >= 500) throw new Error(`the server answered ${answer.status}`);
      localStorage.removeItem(key);
    }
    const answer = await request("POST", item.endpoint, {
      filename: item.file.name,
      size: item.file.size,
    });
    if (answer.status !== 201) {
      if (answer.status >= 500) throw new Error(answer.data.error || "the server failed");
      throw new Refused(answer.data.error || `refused (${answer.status})`);
    }
    item.uploadId = answer.data.id;
    settings.chunkBytes = answer.data.chunk_bytes || settings.chunkBytes;
    localStorage.setItem(key, item.uploadId);
    return 0;
  };

  const upload = async (id) => {
    const item = files.get(id);
    if (!item || item.cancelled) return;
    const size = item.file.size;
    let received = await withRetries(id, item, async () => ({
      status: 200,
      data: { received: await begin(id, item) },
    })).then((a) => a.data.received);
    let lastReport = 0;
    send({ kind: "progress", id, sent: received });
    while (received < size) {
      const end = Math.min(size, received + settings.chunkBytes);
      const chunk = item.file.slice(received, end);
      const offset = received;
      const answer = await withRetries(id, item, () =>
        request(
          "PUT",
          `${item.endpoint}/${item.uploadId}/chunks?offset=${offset}`,
          chunk,
          (loaded) => {
            const now = Date.now();
            if (now - lastReport > PROGRESS_EVERY_MS) {
              lastReport = now;
              send({ kind: "progress", id, sent: offset + loaded });
            }
          },
          item,
        ),
      );
      if (answer.status === 200 || answer.status === 409) {
        // 409: the server has a different offset (an earlier attempt did arrive); go on from it.
        received = answer.data.received;
        send({ kind: "progress", id, sent: received });
      } else if (answer.status === 404) {
        localStorage.removeItem(fingerprint(item.file));
        item.uploadId = null;
        received = await begin(id, item);
      } else {
        throw new Refused(answer.data.error || `refused (${answer.status})`);
      }
    }
    await complete(id, item);
  };

  const complete = async (id, item) => {
    send({ kind: "processing", id });
    const answer = await withRetries(id, item, () =>
      request("POST", `${item.endpoint}/${item.uploadId}/complete`, {
        on_collision: item.choice,
        decision_seconds: item.seconds,
      }),
    );
    if (answer.status === 409 && (item.rewinds = (item.rewinds || 0) + 1) <= settings.retries) {
      // Some bytes went missing on the server: send them again from where it says.
      await upload(id);
      return;
    }
    if (answer.status !== 200) {
      throw new Refused(answer.data.error || `refused (${answer.status})`);
    }
    if (answer.data.status !== "collision") {
      localStorage.removeItem(fingerprint(item.file));
      drop(id);
    }
    send({ kind: "finished", id, result: answer.data });
  };

  const run = async (id, step) => {
    active++;
    try {
      await step(id);
    } catch (error) {
      const item = files.get(id);
      if (cancelled.has(id)) {
        // reported by cancel()
      } else if (error instanceof Refused) {
        drop(id);
        if (item) localStorage.removeItem(fingerprint(item.file));
        send({ kind: "finished", id, result: { status: "rejected", message: error.message } });
      } else {
        send({ kind: "failed", id, reason: error.message });
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

  const discardOnServer = (item) => {
    if (item.uploadId) {
      request("DELETE", `${item.endpoint}/${item.uploadId}`).catch(() => {});
      localStorage.removeItem(fingerprint(item.file));
    }
  };

  window.imgstreamUploads = {
    connect(reporter) {
      report = reporter;
      // After a reload the queue's rows outlive the files this page held.
      send({ kind: "holding", ids: [...files.keys()] });
    },
    // items: [{id, choice, seconds}]; options: {concurrency, retries, backoffMs}
    start(items, options) {
      settings = { ...settings, ...(options || {}) };
      for (const { id, choice, seconds } of items) {
        const item = files.get(id);
        if (!item) continue;
        item.choice = choice || "ask";
        item.seconds = seconds ?? null;
        queue.push([id, upload]);
      }
      pump();
    },
    // A file whose name turned out to be taken when it arrived: finish it with a choice.
    decide(id, choice, seconds) {
      const item = files.get(id);
      if (!item) return;
      item.choice = choice;
      item.seconds = seconds ?? null;
      queue.push([id, (i) => complete(i, files.get(i))]);
      pump();
    },
    retry(id) {
      const item = files.get(id);
      if (!item) {
        send({ kind: "failed", id, reason: "pick the file again to continue where it stopped" });
        return;
      }
      queue.push([id, upload]);
      pump();
    },
    cancel(ids) {
      for (const id of ids) {
        const item = files.get(id);
        const waiting = queue.findIndex(([queued]) => queued === id);
        if (waiting >= 0) queue.splice(waiting, 1);
        if (!item) continue;
        cancelled.add(id);
        item.cancelled = true;
        if (item.xhr) item.xhr.abort();
        discardOnServer(item);
        drop(id);
        send({ kind: "cancelled", id });
      }
    },
    forget(ids) {
      for (const id of ids) drop(id);
    },
  };

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches("[data-photo-input]")) return;
    select(input.files, endpointOf(input));
    input.value = "";
  });

  const zoneOf = (event) =>
    event.target instanceof Element ? event.target.closest("[data-drop-zone]") : null;
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
