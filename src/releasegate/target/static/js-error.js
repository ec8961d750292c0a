// Loaded only while the js-error fault is on: an uncaught error in the browser console,
// as a broken front-end deploy would produce.
throw new Error("releasegate reference service: js-error fault is on");
