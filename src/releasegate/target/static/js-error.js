// Served only while the js-error fault is on: an uncaught error in the browser console.
throw new Error("releasegate reference service: js-error fault is on");
