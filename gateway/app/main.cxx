#include "esgate/app/main.hpp"

int main(int argc, char** argv) { return esgate::app::main(argc, argv); }
