// Site search for the twitchwise static site (search.html). Pagefind's index (pagefind/, written
// by `twitchwise site build`) is searched here, in the browser: nothing is sent to any server.
// The form also works as a plain GET (search.html?q=...): the query in the address is searched
// on load. Results are built as DOM nodes; an excerpt keeps only its text and <mark> elements.
(function () {
  "use strict";

  var form = document.getElementById("search-form");
  var input = document.getElementById("search-q");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  if (!form || !input || !status || !list) {
    return;
  }
  // search.html is at the top of the site: the index and every result are relative to it
  var root = new URL(".", document.baseURI);
  var MAX_RESULTS = 10;
  var loading = null;
  var latest = 0;
  var timer = 0;

  function say(text) {
    status.textContent = text;
  }

  function pagefind() {
    if (loading === null) {
      loading = import(new URL("pagefind/pagefind.js", root).href).then(function (pf) {
        return Promise.resolve(pf.options({ baseUrl: root.pathname })).then(function () {
          return pf;
        });
      });
    }
    return loading;
  }

  function excerpt(html) {
    var out = document.createElement("p");
    var parsed = new DOMParser().parseFromString(html, "text/html");
    parsed.body.childNodes.forEach(function (node) {
      if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        out.appendChild(mark);
      } else {
        out.appendChild(document.createTextNode(node.textContent || ""));
      }
    });
    return out;
  }

  function show(results, query) {
    list.replaceChildren();
    results.forEach(function (r) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = r.url;
      link.textContent = (r.meta && r.meta.title) || r.url;
      item.appendChild(link);
      item.appendChild(excerpt(r.excerpt || ""));
      list.appendChild(item);
    });
    if (results.length === 0) {
      say("No pages found for \u201c" + query + "\u201d. Try another word, or find a guide on the home page.");
    } else {
      say(results.length + (results.length === 1 ? " page" : " pages") + " found for \u201c" + query + "\u201d.");
    }
  }

  function run(query) {
    var id = ++latest;
    query = query.trim();
    if (!query) {
      list.replaceChildren();
      say("");
      return;
    }
    if (location.protocol === "file:") {
      say("Search does not work on a page opened as a file: serve the site (for example with python3 -m http.server) or find a guide on the home page.");
      return;
    }
    say("Searching\u2026");
    pagefind()
      .then(function (pf) {
        return pf.search(query);
      })
      .then(function (search) {
        return Promise.all(
          search.results.slice(0, MAX_RESULTS).map(function (r) {
            return r.data();
          })
        );
      })
      .then(function (results) {
        if (id === latest) {
          show(results, query);
        }
      })
      .catch(function () {
        if (id === latest) {
          say("Search could not load. Every guide and cause is listed on the home page.");
        }
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    var query = input.value;
    var address = new URL(location.href);
    address.searchParams.set("q", query);
    history.replaceState(null, "", address.href);
    run(query);
  });
  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      run(input.value);
    }, 250);
  });

  var initial = new URLSearchParams(location.search).get("q");
  if (initial) {
    input.value = initial;
    run(initial);
  }
})();
