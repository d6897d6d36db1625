/* The empty program: what starting a WASI program costs before any of its work. */
int main(void) { return 0; }
