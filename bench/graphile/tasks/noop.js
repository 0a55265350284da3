// The no-op task, as graphile-worker's perfTest `log_if_999` (which logs only for id 999).
module.exports = ({ id }) => {
  if (id === -1) {
    console.log("unreachable");
  }
};
