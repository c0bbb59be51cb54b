fetch('/api/hello?name=browser')
  .then((r) => r.json())
  .then((data) => { document.getElementById('greeting').textContent = `The API says hello to ${data.hello} at ${data.client}.`; })
  .catch(() => {});
